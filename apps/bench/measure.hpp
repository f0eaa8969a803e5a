#pragma once

// Trials, medians and the output format shared by all measurements.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace bench {

using clock = std::chrono::steady_clock;

/// How long and how often each measurement runs.
struct settings {
  int trials = 5;
  clock::duration trial_length = std::chrono::milliseconds(250);
  clock::duration warmup_length = std::chrono::milliseconds(60);
  /// Fixed-size trials (fib) stop repeating once they took this long.
  clock::duration fixed_budget = std::chrono::seconds(6);
  int64_t fib_n = 20;
  /// A smoke test: less work per benchmark.
  bool quick = false;
  /// Runs only this group of metrics (baseline, tasks, actors, objects or
  /// fib) when set, e.g. to profile one of them.
  std::string only;

  bool runs(const char* group) const {
    return only.empty() || only == group;
  }
};

double seconds_since(clock::time_point start);

double median(std::vector<double> xs);

/// The value `p` percent of `xs` are at or below (nearest rank).
double percentile(std::vector<double> xs, double p);

/// Writes `<name> <value> <unit>` lines on stdout and keeps the values for
/// the ratios printed at the end.
class report {
public:
  void print(const std::string& name, double value, const std::string& unit);

  /// The value printed under `name`; 0 if there is none.
  double get(const std::string& name) const;

  /// Prints `<name>_vs_<base> <fraction> ratio`, with "baseline_" dropped
  /// from the name of `base`, unless either metric is missing.
  void ratio(const std::string& name, const std::string& base, double fraction);

  /// Appended to the name of every metric printed from now on, e.g.
  /// "_processes" for a second pass over another kind of cluster.
  void suffix(std::string text) {
    suffix_ = std::move(text);
  }

  /// For each metric printed with `suffix`, its ratio to the one of the
  /// same name printed without: `<name><suffix>_vs_<label> <ratio> ratio`.
  void compare_passes(const std::string& suffix, const std::string& label);

private:
  std::map<std::string, double> values_;
  std::string suffix_;
};

/// Runs `trial` once briefly to warm up, then `trials` times; returns the
/// median of what the timed trials returned.
double median_of_trials(const settings& cfg,
                        const std::function<double(clock::duration)>& trial);

/// Repeats `step` until `length` has passed and returns completed operations
/// per second. `step` must finish its work before returning how much it did,
/// so the clock only counts completed work.
template <class Step>
double ops_per_second(clock::duration length, Step&& step) {
  auto start = clock::now();
  auto deadline = start + length;
  int64_t ops = 0;
  do {
    ops += step();
  } while (clock::now() < deadline);
  return static_cast<double>(ops) / seconds_since(start);
}

} // namespace bench
