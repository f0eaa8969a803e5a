#pragma once

// Metrics of the user's own, served with the node's on its Prometheus
// endpoint (`--metrics-port`), as Ray's C++ API has them:
//
//   static caraway::metrics::counter items{"app_items_total", "items done",
//                                          {"kind"}};
//   items.inc(1, {{"kind", "fruit"}});
//
// Recorded in a task or an actor, a value appears on the endpoint of the
// node that ran it, with the pid of the process as a `pid` label; a
// driver's go to the node it submits to. A process sends its metrics to its
// node twice a second; its series go when it ends. Defining a metric twice
// with the same kind, tags and buckets gives the same metric.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace caraway::metrics {

/// A tag key and its value, e.g. {"kind", "fruit"}.
using tags = std::map<std::string, std::string>;

/// A total that only goes up.
class counter {
public:
  /// Throws `invalid_argument_error` for a name or tag key Prometheus does
  /// not take, a reserved tag key (`pid`, `le`), or a name defined before
  /// as another kind or with other tags.
  counter(std::string name, std::string description,
          std::vector<std::string> tag_keys = {});

  /// Adds `value` (not negative) to the series of `t`, whose keys must be
  /// among the counter's tag keys; keys left out are empty.
  void inc(double value = 1, const tags& t = {}) const;

private:
  size_t id_;
};

/// A value that is set.
class gauge {
public:
  gauge(std::string name, std::string description,
        std::vector<std::string> tag_keys = {});

  void set(double value, const tags& t = {}) const;

private:
  size_t id_;
};

/// Values counted in buckets by upper bound (ascending, finite), with
/// their sum and count.
class histogram {
public:
  histogram(std::string name, std::string description,
            std::vector<double> boundaries,
            std::vector<std::string> tag_keys = {});

  void observe(double value, const tags& t = {}) const;

private:
  size_t id_;
};

} // namespace caraway::metrics
