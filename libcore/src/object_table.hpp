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

/// Where an object's value lives beyond this process, and whose it is:
/// what to tell whom when the object is freed here.
struct object_location {
  /// Data address of the store with the primary copy, when another process
  /// holds it, and that store's actor (told to free it; only for owners).
  std::string address;
  caf::actor store;
  /// Stores that pulled copies, freed along with the object.
  std::vector<caf::actor> copies;
  /// Set for a borrowed object: another process owns it, and `owner` (once
  /// known) hears when this process lets go.
  bool borrowed = false;
  caf::actor owner;
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
    std::vector<wire::object_id> contains;
  };

  using clock = std::chrono::steady_clock;

  /// Called with ids whose last holder is gone, when their value lived in
  /// an object store, other stores hold copies, or they were borrowed.
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

  /// Counts one more holder of a known object; creates an entry that fails
  /// with object_lost for an unknown one.
  void add_ref(const wire::object_id& id);

  /// Counts one more holder if the object is known; false otherwise.
  bool add_ref_known(const wire::object_id& id);

  /// Counts one more holder of an object another process owns; true when
  /// this created the entry (pending until the owner answers).
  bool add_borrowed(const wire::object_id& id);

  /// Records the owner of a borrowed object; false when it is gone here.
  bool set_owner(const wire::object_id& id, caf::actor owner);

  /// Records a copy in another store; false when the object is gone here.
  bool add_copy(const wire::object_id& id, caf::actor store);

  /// Fails the pending objects borrowed from this owner (it is gone).
  void fail_borrowed_from(const caf::actor_addr& owner,
                          const wire::error_info& why);

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
