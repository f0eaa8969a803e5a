#include "caraway/wire/resource_set.hpp"

#include "caraway/wire/records.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace caraway::wire {

double resource_set::amount(const std::string& name) const {
  auto i = find(name);
  return i == end() ? 0.0 : i->second;
}

bool resource_set::fits_in(const resource_set& have) const {
  for (auto& [name, need] : *this)
    if (need > have.amount(name) + epsilon)
      return false;
  return true;
}

double resource_set::times_in(const resource_set& have) const {
  auto result = std::numeric_limits<double>::infinity();
  for (auto& [name, need] : *this)
    if (need > 0)
      result = std::min(result,
                        std::floor((have.amount(name) + epsilon) / need));
  return result;
}

resource_set& resource_set::operator+=(const resource_set& other) {
  for (auto& [name, x] : other)
    (*this)[name] += x;
  return *this;
}

resource_set& resource_set::operator-=(const resource_set& other) {
  for (auto& [name, x] : other)
    (*this)[name] -= x;
  return *this;
}

double resource_set::utilization(const resource_set& total,
                                 const resource_set& available) const {
  auto used = [&](const std::string& name) {
    auto all = total.amount(name);
    if (all <= 0)
      return 0.0;
    return std::clamp(1.0 - available.amount(name) / all, 0.0, 1.0);
  };
  if (empty())
    return used("CPU");
  double result = 0;
  for (auto& [name, need] : *this)
    if (need > 0)
      result = std::max(result, used(name));
  return result;
}

} // namespace caraway::wire

namespace caraway::wire {

namespace {

// A tiny share of the bundle marker: every task in a group asks for it, so
// that even a task asking for no resources runs on one of its nodes.
constexpr double bundle_share = 0.001;
constexpr double bundle_units = 1000;

std::string group_suffix(const unique_id& group, int64_t index) {
  auto id = to_string(group);
  return index < 0 ? "_group_" + id
                   : "_group_" + std::to_string(index) + "_" + id;
}

} // namespace

resource_set bundle_shape(const resource_set& shape, const unique_id& group,
                          int64_t index) {
  // A task in one bundle uses the group-wide names too: what tasks of any
  // bundle take then never adds up to more than the bundles hold.
  resource_set result;
  auto add = [&](int64_t i) {
    auto suffix = group_suffix(group, i);
    for (auto& [name, amount] : shape)
      if (amount > 0)
        result[name + suffix] = amount;
    result["bundle" + suffix] = bundle_share;
  };
  add(-1);
  if (index >= 0)
    add(index);
  return result;
}

resource_set bundle_supply(const resource_set& bundle, const unique_id& group,
                           int64_t index) {
  resource_set result;
  for (auto i : {index, int64_t{-1}}) {
    auto suffix = group_suffix(group, i);
    for (auto& [name, amount] : bundle)
      if (amount > 0)
        result[name + suffix] += amount;
    result["bundle" + suffix] += bundle_units;
  }
  return result;
}

unique_id group_of(const resource_set& shape) {
  // Every bundle shape has the group-wide marker "bundle_group_<group>".
  static const std::string marker = "bundle_group_";
  for (auto& [name, amount] : shape) {
    if (name.compare(0, marker.size(), marker) != 0)
      continue;
    unique_id id;
    auto tail = name.substr(name.rfind('_') + 1);
    if (from_string(tail, id))
      return id;
  }
  return {};
}

} // namespace caraway::wire
