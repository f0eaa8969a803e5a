#pragma once

// The owner's memory store: the value or error of each object this process
// knows, and the threads waiting for them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "caraway/wire/buffer.hpp"
#include "caraway/wire/ids.hpp"
#include "caraway/wire/records.hpp"
#include "owner/node_cache.hpp"
#include "owner/short_mutex.hpp"

namespace caraway::owner {

/// Values and errors by object id. Thread-safe: user threads read and wait
/// here directly, without a message hop. It calls nothing outside itself;
/// waking a waiter is the only thing it does for others.
class memory_store {
public:
  enum class state : uint8_t { pending, ready, failed };

  /// What a reader sees of an object.
  struct snapshot {
    bool known = false;
    state st = state::pending;
    /// The bytes, unless another process holds them (then see `location`).
    wire::buffer_ptr value;
    bool in_store = false;
    /// Data address of the store holding the value, when it is elsewhere.
    std::string location;
    wire::error_info error;
  };

  using clock = std::chrono::steady_clock;

  struct waiter;

  /// Waiters to wake later: a caller holding a lock of its own collects
  /// them and wakes them (`wake`) once it let go, so that no woken thread
  /// runs into that lock and no wake-up system call happens under it.
  using wakeups = std::vector<std::shared_ptr<waiter>>;

  /// Wakes the waiters collected in `xs` and clears it.
  static void wake(wakeups& xs);

  /// Adds a pending object; no effect if it is known.
  void add_pending(const wire::object_id& id);

  /// Adds (or overwrites) a ready object.
  void put(const wire::object_id& id, wire::buffer_ptr value, bool in_store);

  /// Adds a failed object; no effect if it is known.
  void add_failed(const wire::object_id& id, wire::error_info error);

  /// A pending object becomes ready, its bytes in `value` or, with a null
  /// `value`, at `location`. False if the object is unknown or not pending.
  bool complete(const wire::object_id& id, wire::buffer_ptr value,
                bool in_store, std::string location = {},
                wakeups* later = nullptr);

  /// A pending object fails. False if it is unknown or not pending.
  bool fail(const wire::object_id& id, wire::error_info error,
            wakeups* later = nullptr);

  /// Keeps the bytes of a ready object pulled from elsewhere.
  void cache(const wire::object_id& id, wire::buffer_ptr value);

  /// Makes a settled object pending again (its only copy was lost and its
  /// task runs again); false if it is unknown or pending already.
  bool reopen(const wire::object_id& id);

  /// Forgets an object; its waiters wake up. Returns its value, so that the
  /// caller decides where the bytes are freed, and sets `in_store` if given.
  wire::buffer_ptr erase(const wire::object_id& id, bool* in_store = nullptr,
                         wakeups* later = nullptr);

  snapshot lookup(const wire::object_id& id) const;

  /// The bytes of a ready object held in this process; null otherwise (a
  /// `get`'s fast path: one lock, no copies).
  wire::buffer_ptr ready_value(const wire::object_id& id) const;

  /// True while the object is known and pending.
  bool pending(const wire::object_id& id) const;

  /// Blocks until `n` of `ids` are no longer pending (ready, failed or
  /// forgotten), the deadline passes, or the store shuts down; returns which
  /// are. Spins for up to `spin` before sleeping, since waking a sleeping
  /// thread costs tens of microseconds on virtual machines. `on_block` and
  /// `on_unblock` run around the sleep, with no lock held.
  std::vector<bool> wait(const std::vector<wire::object_id>& ids, size_t n,
                         const clock::time_point* deadline,
                         const std::function<void()>& on_block = nullptr,
                         const std::function<void()>& on_unblock = nullptr,
                         std::chrono::nanoseconds spin = {});

  /// Wakes every waiter; later waits return at once.
  void shutdown();

  bool stopped() const;

  size_t size() const;

  /// Threads inside `wait` for objects still pending.
  size_t waiting_threads() const {
    return waiting_.load();
  }

  struct waiter {
    std::mutex mtx;
    std::condition_variable cv;
    /// Objects settled since the waiter registered; a spinning reader
    /// checks it without the lock.
    std::atomic<size_t> ready{0};
    /// How many it waits for: only the one that completes the count wakes
    /// the thread (a get of 1,000 refs sleeps through the first 999).
    size_t needed = 1;
  };

private:
  using waiter_list = wakeups;

  struct entry {
    state st = state::pending;
    wire::buffer_ptr value;
    bool in_store = false;
    std::string location;
    wire::error_info error;
    waiter_list waiters;
  };

  // Runs `set` on a pending entry, then wakes its waiters (or hands them to
  // `later`); false if the object is unknown or not pending.
  template <class F>
  bool settle(const wire::object_id& id, wakeups* later, F&& set);

  mutable short_mutex mtx_;
  // Before the map, which gives its nodes back to it.
  node_cache nodes_;
  std::unordered_map<wire::object_id, entry, std::hash<wire::object_id>,
                     std::equal_to<wire::object_id>,
                     cached_allocator<std::pair<const wire::object_id, entry>>>
    entries_{cached_allocator<std::pair<const wire::object_id, entry>>{nodes_}};
  std::atomic<bool> stopped_{false};
  std::atomic<size_t> waiting_{0};
};

} // namespace caraway::owner
