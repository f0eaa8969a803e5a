#pragma once

// The owner (core worker) of this process: mints ids, submits tasks once their
// arguments are ready, keeps the objects it owns, queues calls to actors in
// submission order, and turns results into values or errors.

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/logger.hpp>
#include <caf/scoped_actor.hpp>

#include "caraway/config.hpp"
#include "caraway/detail/core.hpp"
#include "caraway/node/object_puller.hpp"
#include "caraway/node/store_memory.hpp"
#include "caraway/wire/interfaces.hpp"
#include "object_table.hpp"

namespace caraway::core {

/// Where the code running on this thread is: set while an executor or an
/// actor host runs user code, so that a blocking `get` lends its lease out.
struct thread_context {
  wire::raylet_actor raylet;
  uint64_t lease = 0;
  uint32_t depth = 0;
  /// Tasks of the same lease not started yet; returned when blocking.
  std::deque<wire::task_spec>* backlog = nullptr;
};

/// The context of the calling thread, or null outside executors.
thread_context* current_context();

/// Sets the calling thread's context for the guard's lifetime.
class context_guard {
public:
  explicit context_guard(thread_context* ctx);
  ~context_guard();

private:
  thread_context* prev_;
};

/// Runs `fn` with a scoped actor. A scoped actor pins CAF's logger to the
/// calling thread, which keeps ~actor_system waiting until that thread ends;
/// this unpins it again unless the thread is one of CAF's own.
template <class F>
void with_scoped_actor(caf::actor_system& sys, F&& fn) {
  bool pinned = caf::logger::current_logger() != nullptr;
  {
    caf::scoped_actor self{sys};
    fn(self);
  }
  if (!pinned)
    caf::logger::set_current_actor_system(nullptr);
}

struct cluster_handles {
  wire::gcs_actor gcs;
  wire::raylet_actor raylet;
  wire::owner_actor owner;
  node::store_memory_ptr store;
  /// Set in a cluster, where other processes read this one's objects.
  wire::object_store_actor store_actor;
  std::shared_ptr<node::object_puller> puller;
  std::string data_address; // host:port of this process' data server
};

class core_worker {
public:
  core_worker(caf::actor_system& sys, const config& cfg);

  ~core_worker();

  /// Completes construction once the components exist.
  void connect(cluster_handles handles);

  caf::actor_system& system() {
    return sys_;
  }

  const config& cfg() const {
    return cfg_;
  }

  /// Id of the node this process runs (empty in a driver).
  const std::string& node_id() const {
    return node_id_;
  }

  void node_id(std::string id) {
    node_id_ = std::move(id);
  }

  /// The owner actor of this process.
  const caf::actor& owner() const {
    return owner_;
  }

  object_table& objects() {
    return objects_;
  }

  node::store_memory& store() {
    return *handles_.store;
  }

  /// Where other processes pull this process' stored objects; empty when
  /// embedded.
  const std::string& data_address() const {
    return handles_.data_address;
  }

  const wire::object_store_actor& store_actor() const {
    return handles_.store_actor;
  }

  /// The value of a stored argument, pulled into this process if another
  /// one holds it. On failure returns null and sets `why`.
  wire::buffer_ptr fetch(const wire::object_id& id, const std::string& address,
                         std::string& why, bool* pulled = nullptr);

  wire::object_id next_id();

  /// The high word of every id this process mints.
  uint64_t worker_id() const {
    return worker_id_;
  }

  const wire::gcs_actor& gcs() const {
    return handles_.gcs;
  }

  /// Counts a holder of `id`; an object another process owns is borrowed
  /// from it.
  void add_ref(const wire::object_id& id);

  /// Holds `id` for a value just received; `pinned_by` (if valid) kept it
  /// alive for this process and is told to let go once it is held here.
  void hold_received(const wire::object_id& id, const caf::actor& pinned_by);

  /// The owner answered for a borrowed object (from the owner actor).
  void on_borrowed(wire::task_result& result);

  /// What a borrower gets for an object this process owns.
  wire::task_result describe(const wire::object_id& id);

  /// Tells the owner of an argument that this process' store pulled a copy.
  void note_copy(const caf::actor& owner, const wire::object_id& id);

  wire::object_id submit_task(const std::string& function,
                              std::vector<detail::call_arg> args,
                              std::vector<wire::object_id> nested,
                              const detail::task_options& opts);

  wire::object_id submit_method(const wire::actor_id& actor,
                                const std::string& method,
                                std::vector<detail::call_arg> args,
                                std::vector<wire::object_id> nested);

  wire::actor_id create_actor(const std::string& class_name,
                              std::vector<std::string> ctor_key,
                              std::vector<detail::call_arg> args,
                              std::vector<wire::object_id> nested,
                              const detail::actor_options& opts);

  std::optional<wire::actor_id>
  find_actor(const std::string& class_name, const std::string& name,
             const std::optional<std::string>& ns);

  void kill_actor(const wire::actor_id& actor);

  wire::object_id put(wire::buffer_ptr value, bool in_store,
                      std::vector<wire::object_id> nested);

  wire::buffer_ptr allocate(size_t size, bool& in_store);

  /// Waits for the objects; returns which are done.
  std::vector<bool> wait(const std::vector<wire::object_id>& ids, size_t n,
                         detail::timeout_type timeout);

  /// The value of a finished object; throws its error.
  wire::buffer_ptr value_of(const wire::object_id& id);

  /// A task or call finished (from the owner actor).
  void on_result(wire::task_result& result);

  /// The gcs published an actor's state (from the owner actor).
  void on_actor_update(const wire::actor_info& info);

  /// Wakes all waiters and fails later waits.
  void shutdown();

private:
  struct pending_task {
    wire::task_spec spec;
    std::vector<wire::object_id> holds; // refs kept alive until done
    wire::actor_id actor;               // nil for a stateless task
    int32_t attempts = 0;
    bool sent = false;
  };

  struct actor_entry {
    std::string class_name;
    wire::actor_state state = wire::actor_state::pending;
    caf::actor host;
    wire::error_info death;
    std::deque<wire::task_id> queue;             // not yet sent, in order
    std::unordered_set<wire::task_id> in_flight; // sent, not yet answered
    wire::object_id blocked_on;         // argument the queue head waits for
    std::vector<wire::object_id> holds; // refs in constructor arguments
  };

  // The argument to send for a call argument: a large value in a cluster
  // becomes an object of its own, so that it travels by the data path.
  // Adds refs the task must hold to `holds`.
  wire::task_arg make_arg(detail::call_arg& arg,
                          std::vector<wire::object_id>& holds);

  // Fills `arg` from a ready object: its bytes, or where to pull them.
  void fill_arg(wire::task_arg& arg, object_table::snapshot& snap);

  // Registers a task and its holds; the caller dispatches it.
  void add_task(wire::task_spec spec, std::vector<detail::call_arg>& args,
                std::vector<wire::object_id> nested);

  // Fills ready argument values; returns an unready ref (nil id if none) or
  // sets `err` when an argument failed. Requires tasks_mtx_.
  wire::object_id resolve(pending_task& task, wire::error_info& err);

  // Sends a stateless task once its arguments are ready.
  void try_submit(const wire::task_id& id);

  // Sends queued calls of an actor that are ready, in order.
  void flush_actor(const wire::actor_id& actor);

  // Ends a task with an error; releases what it held.
  void fail_task(const wire::task_id& id, wire::error_info err);

  // Marks an actor dead and fails its queued and running calls.
  void mark_actor_dead(const wire::actor_id& actor, wire::error_info why);

  // Records what the gcs said about an actor: alive with its host, or dead.
  void note_actor(const wire::actor_info& info);

  // Asks the gcs about an actor this process has not heard of (a handle that
  // came in an argument) and records it; the error says why it cannot be
  // called.
  wire::error_info look_up_actor(const wire::actor_id& actor);

public:
  /// Drops one reference to each id and clears `ids`.
  void release(std::vector<wire::object_id>& ids);

private:
  // Sends a request to the gcs and waits for the answer.
  template <class Result, class... Ts>
  Result ask_gcs(Ts&&... xs);

  caf::actor_system& sys_;
  config cfg_;
  uint64_t worker_id_;
  std::atomic<uint64_t> next_seq_{1};
  object_table objects_;
  cluster_handles handles_;
  caf::actor owner_;
  std::string node_id_;

  std::mutex tasks_mtx_;
  std::unordered_map<wire::task_id, pending_task> tasks_;

  std::mutex actors_mtx_;
  std::unordered_map<wire::actor_id, actor_entry> actors_;
};

} // namespace caraway::core
