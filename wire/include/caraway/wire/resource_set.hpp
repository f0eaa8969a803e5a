#pragma once

// Amounts of resources by name, and the arithmetic of fitting one set into
// another: the one place that decides whether a task or actor fits a node.

#include <map>
#include <string>

namespace caraway::wire {

/// Resource name to amount, e.g. {"CPU": 1, "ssd": 2}. A name that is
/// missing has amount 0.
class resource_set : public std::map<std::string, double> {
public:
  using map::map;

  /// Slack for sums of fractional amounts such as 0.1 + 0.2.
  static constexpr double epsilon = 1e-9;

  /// The amount of `name`; 0 if missing.
  double amount(const std::string& name) const;

  /// True when `have` covers every amount here.
  bool fits_in(const resource_set& have) const;

  /// How many times this set fits in `have` at once (rounded down);
  /// infinity when it asks for nothing.
  double times_in(const resource_set& have) const;

  resource_set& operator+=(const resource_set& other);

  resource_set& operator-=(const resource_set& other);

  /// How much of what this set asks for is in use on a node with `total`
  /// of which `available` is free, 0 to 1: the most used of those resources
  /// (CPU for a set that asks for nothing).
  double utilization(const resource_set& total,
                     const resource_set& available) const;
};

} // namespace caraway::wire
