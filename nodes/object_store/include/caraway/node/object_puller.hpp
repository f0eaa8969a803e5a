#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "caraway/node/data_tls.hpp"
#include "caraway/node/store_memory.hpp"
#include "caraway/wire/buffer.hpp"
#include "caraway/wire/ids.hpp"

namespace caraway::node {

/// Brings objects of other nodes into this process' store, once: readers
/// find the local copy, and readers that ask while a pull is under way wait
/// for that pull instead of starting another.
class object_puller {
public:
  struct options {
    // Socket buffers stay at the kernel's autotuning, which measured faster
    // on loopback than fixed 4 MiB buffers.
    std::chrono::milliseconds timeout{30000}; // connect, and each read
    /// Null: plain TCP. Must match the data servers' setting.
    data::tls_context_ptr tls;
  };

  object_puller(store_memory_ptr store, options opts);

  using clock = std::chrono::steady_clock;

  /// The bytes of `id`, pulled from the data server at `address` (host:port)
  /// unless the local store has them. Sets `pulled` when this call brought
  /// them over. On failure returns null and sets `why`. Gives up at
  /// `deadline`, or after the configured timeout without an answer.
  wire::buffer_ptr fetch(const wire::object_id& id, const std::string& address,
                         std::string& why, bool* pulled = nullptr,
                         clock::time_point deadline = clock::time_point::max());

  /// Objects and bytes that came over the network.
  uint64_t pulled_objects() const {
    return pulled_objects_.load();
  }

  uint64_t pulled_bytes() const {
    return pulled_bytes_.load();
  }

  /// Time spent in successful pulls, from connecting to the last byte.
  uint64_t pull_nanoseconds() const {
    return pull_ns_.load();
  }

private:
  struct pull_state {
    bool done = false;
    wire::buffer_ptr result;
    std::string why;
  };

  wire::buffer_ptr pull(const wire::object_id& id, const std::string& address,
                        std::chrono::milliseconds timeout, std::string& why);

  store_memory_ptr store_;
  options opts_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::unordered_map<wire::object_id, std::shared_ptr<pull_state>> pulls_;
  std::atomic<uint64_t> pulled_objects_{0};
  std::atomic<uint64_t> pulled_bytes_{0};
  std::atomic<uint64_t> pull_ns_{0};
};

} // namespace caraway::node
