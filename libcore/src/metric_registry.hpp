#pragma once

// The process' metrics: the user's (`caraway::metrics`) and the owner's own
// (task latencies). Thread-safe; the owner sends `snapshot()` to its node.

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "caraway/metrics.hpp"
#include "caraway/node/object_puller.hpp"
#include "caraway/wire/records.hpp"

namespace caraway::detail {

class metric_registry {
public:
  /// The process' registry.
  static metric_registry& instance();

  /// A metric's id; the same for a name defined again alike. Throws
  /// `invalid_argument_error` as `caraway::metrics::counter` says.
  size_t define(const std::string& name, const std::string& help,
                wire::metric_kind kind, std::vector<double> bounds,
                std::vector<std::string> tag_keys);

  /// Adds to a counter, sets a gauge or observes a histogram's value.
  void record(size_t id, double value, const metrics::tags& t);

  /// Every series recorded so far.
  std::vector<wire::metric_sample> snapshot() const;

  /// Changes with every record: unchanged means nothing to send.
  uint64_t version() const {
    return version_.load(std::memory_order_relaxed);
  }

  /// A counter's sample, for counts kept elsewhere.
  static wire::metric_sample
  counter_sample(const char* name, const char* help, uint64_t n,
                 std::vector<std::pair<std::string, std::string>> labels = {});

  /// Counters of what `puller` copied in from other nodes, to go with a
  /// snapshot.
  static void add_pulls(const node::object_puller& puller,
                        std::vector<wire::metric_sample>& out);

private:
  struct series {
    double value = 0;
    std::vector<uint64_t> buckets;
    double sum = 0;
  };

  struct family {
    std::string name;
    std::string help;
    wire::metric_kind kind;
    std::vector<double> bounds;
    std::vector<std::string> keys;
    /// Series by their tag values, in the order of `keys`.
    std::map<std::vector<std::string>, series> by_tags;
  };

  mutable std::mutex mtx_;
  std::vector<family> families_;
  std::atomic<uint64_t> version_{0};
};

} // namespace caraway::detail
