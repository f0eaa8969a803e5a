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

} // namespace caraway::wire
