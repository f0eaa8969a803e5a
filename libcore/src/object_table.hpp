#pragma once

// The owner's memory store and reference counter in one table: one entry per
// object this process knows, its value or error once ready, and how many
// holders (refs, pending tasks, enclosing objects) keep it alive.

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

#include <caf/actor.hpp>

#include "caraway/wire/buffer.hpp"
#include "caraway/wire/ids.hpp"
#include "caraway/wire/records.hpp"

namespace caraway::core {

/// Where the primary copy of a stored value lives when another process has
/// it: its data address and the store actor to tell when it is freed.
struct object_location {
  std::string address;
  caf::actor store;
};

class object_table {
public:
  enum class state : uint8_t { pending, ready, failed };

  /// What a reader sees of an object.
  struct snapshot {
    bool known = false;
    state st = state::pending;
    wire::buffer_ptr value;
    bool in_store = false;
    std::string location; // set when another process holds the value
    wire::error_info error;
  };

  using clock = std::chrono::steady_clock;

  /// Called with ids whose last holder is gone and whose value lived in an
  /// object store (this process' one when `where` is empty).
  using release_fn
    = std::function<void(const wire::object_id&, const object_location& where)>;

  explicit object_table(release_fn on_store_release);

  /// A pending object with one holder (the ref handed to the user).
  void add_pending(const wire::object_id& id);

  /// A ready object with one holder; keeps `contains` alive while it lives.
  void add_ready(const wire::object_id& id, wire::buffer_ptr value,
                 bool in_store, std::vector<wire::object_id> contains);

  /// Sets the value of a pending object. Returns false (and releases what
  /// the value contains) if nobody holds the object any more.
  /// A value left in another process' store comes as `where` and no bytes.
  bool complete(const wire::object_id& id, wire::buffer_ptr value,
                bool in_store, std::vector<wire::object_id> contains,
                object_location where = {});

  /// Keeps a local copy of a value that another process holds.
  void cache_value(const wire::object_id& id, wire::buffer_ptr value);

  /// Sets the error of a pending object.
  void fail(const wire::object_id& id, wire::error_info error);

  void add_ref(const wire::object_id& id);

  void remove_ref(const wire::object_id& id);

  snapshot lookup(const wire::object_id& id) const;

  /// Runs `fn` once the object is no longer pending; false if it already is
  /// not (then `fn` is not kept).
  bool on_ready(const wire::object_id& id, std::function<void()> fn);

  /// Blocks until `n` of `ids` are ready or failed, the deadline passes, or
  /// the table shuts down. `on_block` and `on_unblock` run around the sleep.
  /// Returns which are ready or failed.
  /// Spins for up to `spin` before sleeping: waking a sleeping thread costs
  /// tens of microseconds on virtual machines.
  std::vector<bool> wait(const std::vector<wire::object_id>& ids, size_t n,
                         const clock::time_point* deadline,
                         const std::function<void()>& on_block,
                         const std::function<void()>& on_unblock,
                         std::chrono::nanoseconds spin = {});

  /// Wakes every waiter; later waits return at once.
  void shutdown();

  bool stopped() const;

  size_t size() const;

private:
  struct waiter {
    std::mutex mtx;
    std::condition_variable cv;
    size_t ready = 0;
  };

  struct entry {
    state st = state::pending;
    wire::buffer_ptr value;
    bool in_store = false;
    object_location where;
    wire::error_info error;
    int64_t refs = 0;
    std::vector<wire::object_id> contains;
    std::vector<std::shared_ptr<waiter>> waiters;
    std::vector<std::function<void()>> callbacks;
  };

  // Marks the entry done and returns what to notify outside the lock.
  void finish(entry& e, std::vector<std::shared_ptr<waiter>>& waiters,
              std::vector<std::function<void()>>& callbacks);

  void notify(std::vector<std::shared_ptr<waiter>>& waiters,
              std::vector<std::function<void()>>& callbacks);

  // Drops one holder of each id, cascading into what freed objects contain.
  void release_all(std::vector<wire::object_id> ids);

  release_fn on_store_release_;
  mutable std::mutex mtx_;
  std::unordered_map<wire::object_id, entry> entries_;
  std::atomic<bool> stopped_{false};
};

} // namespace caraway::core
