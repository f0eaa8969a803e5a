#pragma once

// The owner (core worker) of this process, composed of its parts: it mints
// ids, submits tasks once their arguments are ready, keeps the objects it
// owns, queues calls to actors in submission order, and turns results into
// values or errors. See README.md in this directory for its threading rule.

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/logger.hpp>
#include <caf/scoped_actor.hpp>

#include "caraway/config.hpp"
#include "caraway/detail/core.hpp"
#include "caraway/node/object_puller.hpp"
#include "caraway/node/store_memory.hpp"
#include "caraway/node/task_runner.hpp"
#include "caraway/wire/interfaces.hpp"
#include "owner/actor_submit_queue.hpp"
#include "owner/dependency_resolver.hpp"
#include "owner/memory_store.hpp"
#include "owner/object_directory.hpp"
#include "owner/reference_counter.hpp"
#include "owner/service.hpp"
#include "owner/short_mutex.hpp"
#include "owner/task_manager.hpp"

namespace caraway::owner {

/// Where the code running on this thread is: set while an executor or an
/// actor host runs user code, so that a blocking `get` lends its lease out.
struct thread_context {
  const node::worker_context* worker = nullptr;
  uint32_t depth = 0;
  /// In an actor's constructor or method: the instance is a restart.
  bool restarted = false;
  /// Namespace of the job the running task or actor belongs to.
  const std::string* ns = nullptr;
  /// The stateless task running (nil in actors): the parent of the tasks
  /// it submits, and what `caraway::cancelled()` asks about.
  wire::task_id task;
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
  /// The node of `raylet`: tasks sent there are lost if it dies.
  wire::unique_id raylet_node;
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

  /// The job this process belongs to (0: none, e.g. a node daemon).
  uint64_t job() const {
    return job_.load(std::memory_order_relaxed);
  }

  void job(uint64_t id) {
    job_.store(id, std::memory_order_relaxed);
  }

  /// Whether this process sends its metrics to its node (a worker process
  /// or a driver: a node's daemon serves its own); set before `connect`.
  void ships_metrics(bool on) {
    ships_metrics_ = on;
  }

  bool ships_metrics() const {
    return ships_metrics_;
  }

  /// Sends this process' metrics to its raylet if they changed since the
  /// last time (from the owner actor's timer, and at shutdown).
  void send_metrics();

  /// Id of the node this process runs (empty in a driver).
  const std::string& node_id() const {
    return node_id_;
  }

  void node_id(std::string id) {
    node_id_ = std::move(id);
  }

  /// Where the lines worker processes printed while running this process'
  /// tasks go: its stderr unless set. A worker process passes them on to
  /// the owner of its own task, so that they reach the driver once, with
  /// the prefix of the worker that printed them. Set before tasks run.
  void on_output(std::function<void(std::vector<std::string>)> fn) {
    on_output_ = std::move(fn);
  }

  const std::function<void(std::vector<std::string>)>& on_output() const {
    return on_output_;
  }

  /// Runs a task of this process on the calling thread and delivers its
  /// result. Set (in a worker process, before tasks run), it makes a task
  /// that waits for its own children run those still queued for a lease
  /// itself, instead of blocking while another worker process is leased,
  /// started and reached for each: see `run_queued_here`.
  using inline_runner
    = std::function<void(const wire::task_spec&, const node::worker_context&)>;
  void run_inline(inline_runner fn) {
    run_inline_ = std::move(fn);
  }

  /// The owner actor of this process.
  const wire::owner_actor& owner() const {
    return handles_.owner;
  }

  /// The namespace of the calling code: its job's, inside a task or actor;
  /// this process' own otherwise.
  const std::string& current_namespace() const {
    auto ctx = current_context();
    return ctx != nullptr && ctx->ns != nullptr && !ctx->ns->empty() ? *ctx->ns
                                                                     : cfg_.ns;
  }

  /// True when `x` is this process' owner actor. Comparing handles
  /// compares pointers; making an address for each comparison would touch
  /// the owner's reference count from every thread.
  bool is_own(const wire::owner_actor& x) const {
    return x && x == handles_.owner;
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

  const wire::gcs_actor& gcs() const {
    return handles_.gcs;
  }

  /// The high word of every id this process mints.
  uint64_t worker_id() const {
    return worker_id_;
  }

  wire::object_id next_id();

  /// An id for an actor: marked so that every process tells it from an
  /// object's (`wire::is_actor_id`).
  wire::actor_id next_actor_id() {
    auto id = next_id();
    id.lo |= wire::actor_id_bit;
    return id;
  }

  /// True once shutdown began.
  bool stopped() const {
    return memory_.stopped();
  }

  // -- objects (owner/core_worker_objects.cpp) ------------------------------

  wire::object_id put(wire::buffer_ptr value, bool in_store,
                      std::vector<wire::object_id> nested);

  wire::buffer_ptr allocate(size_t size, bool& in_store);

  /// Waits for the objects; returns which are done.
  std::vector<bool> wait(const std::vector<wire::object_id>& ids, size_t n,
                         detail::timeout_type timeout);

  /// A task that waits for all of `ids` with no timeout runs those of them
  /// that are its process' tasks still queued for a lease on its own thread
  /// (within the resources it holds: CPU only, at most one, no placement
  /// constraint), one after another, before it blocks for the rest. Nested
  /// tasks then cost a function call, not a round trip to another worker
  /// process. Does nothing unless `run_inline` was set.
  void run_queued_here(const std::vector<wire::object_id>& ids,
                       const node::worker_context& worker);

  /// What is left until `deadline`, as a wait's timeout.
  static detail::timeout_type until(memory_store::clock::time_point deadline) {
    if (deadline == memory_store::clock::time_point::max())
      return detail::infinite_timeout;
    auto left = deadline - memory_store::clock::now();
    return std::max(detail::timeout_type{0},
                    std::chrono::duration_cast<detail::timeout_type>(left));
  }

  /// The bytes of a ready object held in this process; null otherwise
  /// (then `wait` and `value_of`).
  wire::buffer_ptr ready_value(const wire::object_id& id) const {
    return memory_.ready_value(id);
  }

  /// The value of a finished object; throws its error. A pull from another
  /// node gives up at `deadline` with `timeout_error`.
  wire::buffer_ptr
  value_of(const wire::object_id& id,
           memory_store::clock::time_point deadline
           = memory_store::clock::time_point::max());

  /// The value of a stored argument, pulled into this process if another
  /// one holds it. On failure returns null and sets `why`.
  wire::buffer_ptr fetch(const wire::object_id& id, const std::string& address,
                         std::string& why, bool* pulled = nullptr,
                         memory_store::clock::time_point deadline
                         = memory_store::clock::time_point::max());

  /// An `object_ref` to `id` was made here; an object another process owns
  /// is borrowed from it.
  void add_ref(const wire::object_id& id);

  /// An `object_ref` to `id` was dropped here.
  void remove_ref(const wire::object_id& id);

  /// Drops one `submitted` ref to each id and clears `ids`.
  void release(std::vector<wire::object_id>& ids);

  /// Another process borrows `id` (false: unknown here).
  bool add_borrower(const wire::object_id& id);

  /// ...and lets go of it.
  void remove_borrower(const wire::object_id& id);

  /// The receiver of a value containing `id` holds it now: the ref this
  /// process kept for it goes.
  void unpin(const wire::object_id& id);

  /// Records the owner of a borrowed object; false when it is gone here.
  bool set_borrowed_owner(const wire::object_id& id, wire::owner_actor owner);

  /// Another node's store pulled a copy of `id`; false when `id` is gone.
  bool add_copy(const wire::object_id& id, wire::object_store_actor store);

  /// Fails a pending object (e.g. the owner of a borrowed one is gone).
  void fail_object(const wire::object_id& id, wire::error_info why);

  /// Fails the pending objects borrowed from this owner (it is gone).
  void fail_borrowed_from(const caf::actor_addr& owner,
                          const wire::error_info& why);

  /// The owner answered for a borrowed object.
  void on_borrowed(wire::task_result& result);

  /// What a borrower gets for an object this process owns.
  wire::task_result describe(const wire::object_id& id);

  /// A borrower waits for `id`: the owner actor gets `ready_atom` once it is
  /// settled. False when it is not pending (answer at once).
  bool await_for_borrower(const wire::object_id& id);

  /// Tells the owner of an argument that this process' store pulled a copy.
  void note_copy(const wire::owner_actor& owner, const wire::object_id& id);

  // -- tasks (owner/core_worker.cpp) ----------------------------------------

  wire::object_id submit_task(const std::string& function,
                              std::vector<detail::call_arg> args,
                              std::vector<wire::object_id> nested,
                              const detail::task_options& opts);

  /// A task or call finished (from the owner actor, or from an executor of
  /// this process directly).
  void on_result(wire::task_result& result);

  /// The only copy of `id`, at `location`, could not be read (`why`): true
  /// if its task runs again to make it anew (or a new copy exists already);
  /// otherwise the object fails with `object_lost`.
  bool rebuild(const wire::object_id& id, const std::string& location,
               const std::string& why);

  // -- cancellation -----------------------------------------------------------

  /// Cancels a task this process submitted: one waiting for its arguments
  /// or a worker fails with `cancelled` at once; one sent to a node is
  /// flagged there (and with `recursive`, the tasks it submitted are
  /// cancelled too). A finished or unknown task: nothing happens.
  void cancel(const wire::task_id& id, bool recursive);

  /// The error of a cancelled task.
  static wire::error_info cancelled_error_info(const wire::task_id& id);

  /// The task `id` runs (or waits in a batch) in this process: flags it, and
  /// with `recursive` cancels the tasks it submitted.
  void cancel_here(const wire::task_id& id, bool recursive);

  /// Whether the task `id`, running in this process, was cancelled.
  bool cancel_requested(const wire::task_id& id) const;

  /// A stateless task (of any owner) starts running here: the task table
  /// hears of it if it still runs at this process' next report.
  void run_started(const wire::task_spec& spec, int64_t started_ns);

  /// The task `id` finished running here: its flag goes.
  void run_ended(const wire::task_id& id);

  /// The node holding the current attempt of a task sent to a worker: nil
  /// in an embedded cluster (its one node); empty if the task is not
  /// pending.
  std::optional<wire::unique_id> node_of(const wire::task_id& id) const;

  /// Tasks whose arguments are ready, in the order they became so, for the
  /// owner actor to hand to its submitter (see `outbox_`).
  std::vector<wire::task_spec> take_ready();

  /// These tasks were never sent, and never will be (`err` says why): they
  /// fail.
  void fail_unsent(const std::vector<wire::task_spec>& tasks,
                   const wire::error_info& err);

  /// Sends the task events recorded since the last call to the gcs' task
  /// table, in one message (the owner actor calls it twice a second, and
  /// shutdown once more).
  void flush_task_events();

  /// These tasks go to the executor of `lease` on `node` (called before
  /// they are sent): they run again should that node or worker die.
  void on_sent(const std::vector<wire::task_spec>& tasks,
               const wire::unique_id& node, uint64_t lease);

  /// The worker process holding `lease` died (`why` names its signal or
  /// exit code and its node): the tasks sent to it run again, or fail with
  /// `worker_died` once out of retries.
  void on_worker_died(uint64_t lease, const std::string& why);

  /// `node` died (the gcs said so, or the connection to the raylet this
  /// process submits to is gone): its tasks run again elsewhere, or fail
  /// with `node_died` once out of retries.
  void on_node_died(const wire::unique_id& node, const std::string& address);

  /// The raylet this process submits to, and its node.
  wire::raylet_actor raylet() const {
    std::lock_guard<short_mutex> guard{mtx_};
    return handles_.raylet;
  }

  wire::unique_id raylet_node() const {
    std::lock_guard<short_mutex> guard{mtx_};
    return handles_.raylet_node;
  }

  /// Submits to `raylet` on `node` from now on: a driver that rejoined its
  /// job after the head restarted (the raylet before may be gone).
  void switch_raylet(wire::raylet_actor raylet, const wire::unique_id& node);

  // -- actors (owner/core_worker_actors.cpp) --------------------------------

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

  /// Kills the actor; with `no_restart` false, it restarts if it has
  /// restarts left.
  void kill_actor(const wire::actor_id& actor, bool no_restart = true);

  /// Placement groups, through the gcs: creates one for this process (its
  /// id; the namespace is this job's); looks one up (nil id if unknown);
  /// removes one (false if unknown or removed); lists them.
  wire::unique_id create_group(wire::placement_group_info info);
  wire::placement_group_info group(const wire::unique_id& id);
  wire::placement_group_info group_named(const std::string& name);
  bool remove_group(const wire::unique_id& id);
  std::vector<wire::placement_group_info> groups();

  /// The gcs published an actor's state (from the owner actor).
  void on_actor_update(const wire::actor_info& info);

  /// Wakes all waiters and fails later waits.
  void shutdown();

  /// Sizes of the parts, for tests and status.
  struct part_sizes {
    size_t objects, refs, locations, tasks, actors, waiting;
  };

  part_sizes sizes();

  /// The objects this process owns, largest first, at most `limit`; sets
  /// `total` to how many it owns (actor handles are not objects).
  std::vector<wire::object_info> objects(size_t limit, uint64_t& total);

  /// One object this process owns; nullopt if it does not own it.
  std::optional<wire::object_info> object(const wire::object_id& id);

  /// Threads waiting in `get` or `wait`.
  size_t waiting_threads() const {
    return memory_.waiting_threads();
  }

  /// Holders of `id` by kind.
  ref_counts refs_of(const wire::object_id& id);

private:
  // The node this process runs on or submits to.
  wire::unique_id own_node() const;

  // Bytes of an owned object's value (0 while unknown); the lock is held.
  uint64_t size_locked(const wire::object_id& id) const;

  // What the owner knows of one object it owns; the lock is held. The
  // function of its task, if still pending here, else `ended` (the events
  // of ended tasks not yet sent to the gcs, by id).
  wire::object_info describe_locked(
    const wire::object_id& id,
    const std::unordered_map<wire::task_id, const std::string*>& ended) const;

  /// What to do once the lock is released: messages to send and waiters of
  /// borrowers to answer. Filled under the lock, run by `apply`.
  struct effects {
    /// Tasks whose arguments are ready, for the submitter (the owner
    /// actor) to send to leased executors.
    std::vector<wire::task_spec> to_submit;
    /// Tasks cancelled after they went to the submitter: the owner actor
    /// takes them back from it, or has their node flag them.
    std::vector<std::pair<wire::task_id, bool>> cancels;
    /// Actors whose handles are all gone and whose calls are answered.
    std::vector<wire::actor_id> out_of_scope;
    std::vector<std::pair<wire::object_store_actor, wire::object_id>> frees;
    std::vector<std::pair<wire::owner_actor, wire::object_id>> releases;
    std::vector<std::pair<wire::owner_actor, wire::object_id>> unpins;
    /// Borrowed objects new here, and who pinned each for this process.
    std::vector<std::pair<wire::object_id, wire::owner_actor>> borrows;
    std::vector<wire::object_id> borrower_ready;
    std::vector<wire::buffer_ptr> garbage;
    /// Threads waiting for objects settled under the lock.
    memory_store::wakeups wakeups;

    /// Nothing to do: most releases of a ref free only local memory.
    bool empty() const {
      return to_submit.empty() && cancels.empty() && out_of_scope.empty()
             && frees.empty() && releases.empty() && unpins.empty()
             && borrows.empty() && borrower_ready.empty() && garbage.empty()
             && wakeups.empty();
    }
  };

  using lock_type = std::unique_lock<short_mutex>;

  // Ends an actor this process created once no handle to it is left and
  // its calls are answered (not a detached one).
  void end_if_unused(const wire::actor_id& actor, effects& fx);

  // Releases the lock, then sends what `fx` collected.
  void apply(lock_type& lock, effects& fx);

  // The argument to send for a call argument: a large value in a cluster
  // becomes an object of its own, so that it travels by the data path.
  // Appends refs the task must hold to `holds`.
  // Appends ids the task holds already (collected nested refs, objects made
  // here) to `holds`, and ref arguments, not counted yet, to `arg_refs`.
  wire::task_arg make_arg(detail::call_arg& arg,
                          std::vector<wire::object_id>& holds,
                          std::vector<wire::object_id>& arg_refs);

  // Fills `arg` from a ready object: its bytes, or where to pull them.
  void fill_arg(wire::task_arg& arg, memory_store::snapshot& snap);

  // Builds a pending task holding its args and nested refs. No lock.
  pending_task make_task(wire::task_spec spec,
                         std::vector<detail::call_arg>& args,
                         std::vector<wire::object_id> nested,
                         std::vector<wire::object_id>& arg_refs);

  // Counts what a task (or constructor) holds as `submitted` refs: `holds`
  // were local refs, `arg_refs` are new holders; moves `arg_refs` into
  // `holds`.
  void count_holds(std::vector<wire::object_id>& holds,
                   std::vector<wire::object_id>& arg_refs);

  // -- under the lock --------------------------------------------------------

  // Registers a pending object owned here with its first (local) ref.
  void add_pending_locked(const wire::object_id& id);

  // Registers a task made by `make_task`, its result object and its holds.
  void add_task_locked(pending_task task,
                       std::vector<wire::object_id>& arg_refs);

  // Fills ready argument values; returns an unready ref (nil id if none) or
  // sets `err` when an argument failed.
  wire::object_id resolve(pending_task& task, wire::error_info& err);

  // The node holding most bytes of these (resolved) arguments, if it is
  // not this process' own.
  wire::unique_id locality_of(const std::vector<wire::task_arg>& args) const;

  // Sends a stateless task once its arguments are ready.
  void try_submit(const wire::task_id& id, effects& fx,
                  std::vector<wire::object_id>& settled);

  // Sends the queued calls of an actor that are ready, in order.
  void flush_actor(const wire::actor_id& actor, effects& fx,
                   std::vector<wire::object_id>& settled);

  // The only copy of `id` is lost (`why`): runs its task again if its
  // lineage is kept and it has retries left (true), else fails it.
  bool rebuild_locked(const wire::object_id& id, const std::string& why,
                      effects& fx, std::vector<wire::object_id>& settled);

  // Drops the values and locations resolved for a task's ref arguments.
  static void forget_resolved(pending_task& task);

  // A finished task could not read argument `err.object`: true if it runs
  // again (after the argument is made again, if this process owns it).
  bool retry_after_lost_arg(pending_task& task, const wire::error_info& err,
                            effects& fx,
                            std::vector<wire::object_id>& settled);

  // The actor restarts: its calls in flight go back to the head of its
  // queue while they have retries (`max_task_retries`), else fail.
  void requeue_in_flight(const wire::actor_info& info, effects& fx,
                         std::vector<wire::object_id>& settled);

  // The current attempt of a sent task is lost with `node`: sends it
  // again, or fails it once out of retries.
  void lost_with_node(pending_task& task, const wire::unique_id& node,
                      effects& fx, std::vector<wire::object_id>& settled);

  // The current attempt of a sent task is lost (`why`, an error of kind
  // `kind` once out of retries): sends it again, or fails it.
  void lost_attempt(pending_task& task, wire::error_kind kind,
                    const std::string& why, effects& fx,
                    std::vector<wire::object_id>& settled);

  // Ends a task with an error; releases what it held.
  void fail_task(const wire::task_id& id, wire::error_info err, effects& fx,
                 std::vector<wire::object_id>& settled);

  // Marks an actor dead and fails its queued and running calls.
  void mark_actor_dead(const wire::actor_id& actor, wire::error_info why,
                       effects& fx, std::vector<wire::object_id>& settled);

  // Records what the gcs said about an actor, then sends or fails its calls.
  void note_actor(const wire::actor_info& info, effects& fx);

  // Objects in `settled` are no longer pending: what waited for them goes
  // on. A loop over a work list, since settling one may settle others (a
  // failed argument fails the tasks that take it).
  void settle(std::vector<wire::object_id>& settled, effects& fx);

  // `id` settled: adds it to `settled` if anything waits for it.
  void note_settled(const wire::object_id& id,
                    std::vector<wire::object_id>& settled);

  // Drops a ref; what is freed leaves the memory store and the directory
  // here, and messages to other stores and owners go to `fx`.
  void remove_ref_locked(const wire::object_id& id, ref_kind kind, effects& fx);

  // Lets go of the `submitted` refs a task, call or constructor held.
  void release_holds(const std::vector<wire::object_id>& holds, effects& fx);

  void free_objects(std::vector<freed_object>& freed, effects& fx);

  // Counts a holder of a received ref, borrowing objects others own; the
  // sender that pinned it for this process (if any) is told to let go.
  void hold_received(const wire::object_id& id, ref_kind kind,
                     const wire::owner_actor& pinned_by, effects& fx);

  // Asks the gcs about an actor this process has not heard of (a handle that
  // came in an argument) and records it; the error says why it cannot be
  // called.
  wire::error_info look_up_actor(const wire::actor_id& actor);

  // Sends a request to the gcs and waits for the answer.
  template <class Result, class... Ts>
  Result ask_gcs(Ts&&... xs);

  caf::actor_system& sys_;
  config cfg_;
  uint64_t worker_id_;
  std::atomic<uint64_t> job_{0};
  std::atomic<uint64_t> next_seq_{1};
  cluster_handles handles_;
  // The owner actor with its private messages, for what this sends it.
  service_actor service_;
  std::string node_id_;
  std::function<void(std::vector<std::string>)> on_output_;
  inline_runner run_inline_;

  memory_store memory_;

  // Tasks ready for the owner actor. The thread that finds the box empty
  // rings once (`queue_atom`) and the actor takes all there is: a loop of
  // submissions costs a message per batch, not per task. Its own lock,
  // taken after the owner lock is released, never with it.
  std::mutex outbox_mtx_;
  std::vector<wire::task_spec> outbox_;

  // The owner lock: guards the parts below. Taken by user threads, executor
  // threads and the owner actor; never held while user code runs, a message
  // is sent or the gcs is asked.
  mutable short_mutex mtx_;
  reference_counter refs_;
  object_directory directory_;
  task_manager tasks_;
  actor_submit_queue actors_;
  dependency_resolver deps_;
  // Objects a borrower waits for, answered once they settle.
  std::unordered_set<wire::object_id> borrower_waits_;
  // Nodes declared dead, with their addresses: no task goes there again.
  std::unordered_map<wire::unique_id, std::string> dead_nodes_;
  /// Tasks this process submitted and cancelled while they ran elsewhere:
  /// not run again should their node die.
  std::unordered_set<wire::task_id> cancelled_;
  /// Tasks running here that were cancelled; `cancelled_count_` lets the
  /// check before each run skip the lock while there are none.
  mutable std::mutex cancel_mtx_;
  std::unordered_set<wire::task_id> cancelled_here_;
  std::atomic<size_t> cancelled_count_{0};
  // Task events not yet sent to the gcs, at most `max_task_events`; those
  // past the bound are only counted. A task makes one when it ends; one
  // still pending or running at a flush after the one following its
  // submission makes one then too (`unreported_`, oldest first).
  std::vector<wire::task_info> task_events_;
  /// Tasks running on this process' executor threads, for the task table:
  /// a slot per thread running one (a nil id is a free slot), reused so
  /// that a task allocates nothing here.
  struct running_task {
    wire::task_id id;
    std::string function;
    int64_t started_ns = 0;
    uint32_t attempts = 0;
    bool reported = false;
  };
  std::mutex running_mtx_;
  std::vector<running_task> running_;
  bool ships_metrics_ = false;
  /// Sent from the owner actor's timer and at shutdown, on other threads.
  std::atomic<uint64_t> metrics_sent_version_{0};
  uint64_t task_events_dropped_ = 0;
  std::deque<std::pair<wire::task_id, int64_t>> unreported_;
  void record_locked(wire::task_info x);
  // The task as the task table shows it now.
  wire::task_info task_info_locked(const pending_task& task) const;
  // `ran`: the result of its run, which says when and where it ran (null
  // if it never ran).
  void record_end_locked(const pending_task& task, const wire::error_info& err,
                         const wire::task_result* ran = nullptr);
  // Scratch list of the objects one ref removal frees.
  std::vector<freed_object> freed_;
  // Arguments held by the lineage of freed objects, still to release.
  std::vector<wire::object_id> lineage_release_;
};

} // namespace caraway::owner
