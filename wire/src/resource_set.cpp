#include "caraway/wire/resource_set.hpp"

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
