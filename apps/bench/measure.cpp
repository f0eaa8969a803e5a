#include "measure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace bench {

double seconds_since(clock::time_point start) {
  return std::chrono::duration<double>(clock::now() - start).count();
}

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  auto mid = xs.begin() + xs.size() / 2;
  std::nth_element(xs.begin(), mid, xs.end());
  if (xs.size() % 2 == 1)
    return *mid;
  auto lower = *std::max_element(xs.begin(), mid);
  return (lower + *mid) / 2;
}

double percentile(std::vector<double> xs, double p) {
  if (xs.empty())
    return 0;
  auto rank = static_cast<size_t>(p / 100 * static_cast<double>(xs.size() - 1));
  auto at = xs.begin() + static_cast<std::ptrdiff_t>(rank);
  std::nth_element(xs.begin(), at, xs.end());
  return *at;
}

namespace {

// Integers for large values, four significant digits for small ones.
std::string format_value(double x) {
  char buf[64];
  if (std::fabs(x) >= 1000)
    std::snprintf(buf, sizeof(buf), "%.0f", x);
  else
    std::snprintf(buf, sizeof(buf), "%.4g", x);
  return buf;
}

} // namespace

void report::print(const std::string& name, double value,
                   const std::string& unit) {
  values_[name + suffix_] = value;
  // Flushes each line so that a slow run still shows its progress.
  std::cout << name << suffix_ << ' ' << format_value(value) << ' ' << unit
            << std::endl;
}

void report::compare_passes(const std::string& suffix,
                            const std::string& label) {
  for (auto& [name, value] : values_) {
    if (name.size() <= suffix.size()
        || name.compare(name.size() - suffix.size(), suffix.size(), suffix)
             != 0)
      continue;
    auto base = get(name.substr(0, name.size() - suffix.size()));
    if (base > 0 && value > 0)
      std::cout << name << "_vs_" << label << ' ' << format_value(value / base)
                << " ratio" << std::endl;
  }
}

double report::get(const std::string& name) const {
  auto i = values_.find(name);
  return i != values_.end() ? i->second : 0;
}

void report::ratio(const std::string& name, const std::string& base,
                   double fraction) {
  if (get(name) <= 0 || get(base) <= 0)
    return;
  auto label = base;
  auto pos = label.find("baseline_");
  if (pos != std::string::npos)
    label.erase(pos, 9);
  std::cout << name << "_vs_" << label << ' ' << format_value(fraction)
            << " ratio" << std::endl;
}

double median_of_trials(const settings& cfg,
                        const std::function<double(clock::duration)>& trial) {
  trial(cfg.warmup_length);
  std::vector<double> results;
  for (int i = 0; i < cfg.trials; ++i)
    results.emplace_back(trial(cfg.trial_length));
  return median(results);
}

} // namespace bench
