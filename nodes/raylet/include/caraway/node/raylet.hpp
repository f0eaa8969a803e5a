#pragma once

#include <cstdint>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "caraway/wire/interfaces.hpp"

namespace caraway::node {

/// How a raylet starts the threads that run user code and loads that code
/// (passed in, so that the raylet never depends on what runs there).
struct worker_factory {
  std::function<wire::executor_actor(wire::raylet_actor)> spawn_executor;
  std::function<wire::actor_host_actor(wire::raylet_actor,
                                       const wire::actor_spec&, uint64_t)>
    spawn_actor_host;
  /// Loads shared libraries with user code; returns why each library that
  /// failed did not load. Null: this node loads nothing.
  std::function<std::vector<std::string>(const std::vector<std::string>&)>
    load_libraries;
  /// Bytes in use in this node's object store. Null: none.
  std::function<uint64_t()> store_used;
  /// Frees the objects of the process `worker` from this node's store (its
  /// owner is gone); returns how many. Null: no store.
  std::function<size_t(uint64_t)> free_owned;
  /// Flags a task running (or batched) here as cancelled, and with
  /// `recursive` cancels the tasks it submitted. Null: nothing runs here.
  std::function<void(const wire::task_id&, bool)> cancel;
  /// Worker processes (null: tasks run on executor threads of this
  /// process). Starts one for `job` with the job's `libraries`, which
  /// registers with the raylet under `token`; returns its pid, or 0 with
  /// `why` filled in.
  std::function<int32_t(uint64_t job, const std::vector<std::string>&,
                        uint64_t token, std::string& why)>
    start_worker;
  /// How the worker process `pid` ended, once it did (it is reaped then);
  /// empty while it runs.
  std::function<std::string(int32_t pid)> reap_worker;
  /// Kills the worker process `pid` (SIGKILL); it is reaped later.
  std::function<void(int32_t pid)> kill_worker;
  /// Keeps the libraries of `job` as they are now, for its worker
  /// processes; returns what they load, and in `failed` why each library
  /// that could not be kept was not. Null: they load the paths given.
  std::function<std::vector<std::string>(uint64_t job,
                                         const std::vector<std::string>&,
                                         std::vector<std::string>& failed)>
    keep_libraries;
  /// The worker processes started, running or ended, with their output
  /// files. Null: none.
  std::function<std::vector<wire::worker_info>()> list_workers;
  /// The last `lines` lines (0: all) of what worker process `pid` wrote to
  /// stdout and stderr; false if `pid` is not one of this node's.
  std::function<bool(int32_t pid, uint32_t lines, std::string& out,
                     std::string& err)>
    worker_output;
  /// The last `lines` lines (0: all) of this daemon's log file of
  /// `component`; false, saying why, if there is none. Null: no files.
  std::function<bool(const std::string& component, uint32_t lines,
                     std::string& text, std::string& why)>
    component_log;
  /// This node's object store.
  wire::object_store_actor store;
  /// A worker process idle this long is asked to end.
  std::chrono::milliseconds worker_idle_timeout{10000};
  /// A worker process whose job ended is asked to end, and killed if it
  /// still runs after this long.
  std::chrono::milliseconds worker_exit_grace{1000};
};

/// Resources granted to an owner's tasks (one executor) or to a live actor.
struct lease {
  wire::resource_set held;
  bool blocked = false;      // lent out while its task waits in `get`
  wire::executor_actor executor; // null for an actor's lease
  caf::actor_addr host;      // set for an actor's lease
  uint64_t worker = 0;       // the owner holding an executor's lease
  uint64_t token = 0;        // the worker process serving it, if any
  wire::owner_actor owner;   // told if that process dies
};

/// An owner waiting for a lease: answered with a grant or sent elsewhere.
struct lease_request {
  caf::typed_response_promise<wire::executor_actor, uint64_t, wire::unique_id,
                              std::string>
    promise;
  uint64_t worker = 0; // the owner's ids carry it in their high word
  uint32_t depth = 0;
  bool spilled = false; // sent here by another node
  wire::strategy strategy = wire::strategy::hybrid;
  /// The node of a node affinity; for the hybrid strategy, the node
  /// holding most of the task's arguments, which keeps it while it has
  /// room.
  wire::unique_id affinity_node;
  bool affinity_soft = false;
  /// The job whose code the tasks run, and the owner asking.
  uint64_t job = 0;
  wire::owner_actor owner;
};

/// A worker process the raylet started: it runs one job's tasks.
struct worker_process {
  uint64_t job = 0;
  int32_t pid = 0;
  wire::executor_actor executor; // null until it registered
  std::string address;           // where it listens, for owners to dial
  wire::owner_actor owner;       // its owner, which cancels its tasks
  uint64_t lease = 0;            // the lease it serves; 0 while idle
  /// Since when it is idle.
  std::chrono::steady_clock::time_point idle_since;
  /// It agreed to end (idle too long), or was told to (its job ended): it
  /// exits by itself.
  bool ending = false;
  /// When it is killed unless it exited by then (its job ended).
  std::optional<std::chrono::steady_clock::time_point> kill_at;
  /// Started for this actor (nil id: for tasks), which it hosts under
  /// `lease` once registered; it ends with the actor.
  wire::actor_spec actor;

  bool for_actor() const {
    return !actor.id.nil();
  }
};

/// Scheduling state of one node; pure logic, no messaging.
struct raylet_state {
  static inline const char* name = "caraway.raylet";

  wire::node_info info;
  uint32_t max_executors = 512;
  worker_factory factory;

  /// Lease requests waiting for resources, by resource shape, deeper tasks
  /// first (they unblock the tasks waiting on them), then in arrival order.
  using queue_key = std::pair<int64_t, uint64_t>;
  std::map<wire::resource_set, std::map<queue_key, lease_request>> queues;
  uint64_t next_seq = 0;
  uint64_t queued = 0;

  std::deque<wire::actor_spec> pending_actors;
  std::vector<wire::executor_actor> idle;
  uint32_t executors = 0;
  std::unordered_map<uint64_t, lease> leases;
  /// Lease numbers go to owners, which hold leases of many nodes: each
  /// raylet starts at a random high word so that they do not collide.
  uint64_t next_lease = 1;
  std::set<wire::resource_set> warned_infeasible;

  /// Requests no resource here can ever satisfy, waiting for a node that
  /// can, with their shapes.
  std::vector<std::pair<wire::resource_set, lease_request>> infeasible;
  wire::gcs_actor gcs;

  /// A resource report to the gcs is on its way.
  bool report_scheduled = false;
  /// The store's use as last reported: puts and frees change it without
  /// any scheduling, so it is looked at now and then too.
  uint64_t reported_store_used = 0;

  /// The metrics processes on or using this node recorded, by process (its
  /// pid and latest samples), until the process is gone.
  std::map<caf::actor_addr, std::pair<int32_t, std::vector<wire::metric_sample>>>
    process_metrics;
  /// A look for ended worker processes is due.
  bool reap_scheduled = false;

  /// The other live nodes, as the gcs last published them.
  std::map<wire::unique_id, wire::node_info> view;
  /// What this raylet sent owners to each node since its last row, with
  /// when: counted against the node's room for `sent_hold` at most (an
  /// owner that never arrives, or a row that does not come, must not keep
  /// the node looking full).
  std::map<wire::unique_id,
           std::deque<std::pair<std::chrono::steady_clock::time_point,
                                wire::resource_set>>>
    sent;
  std::chrono::milliseconds sent_hold{500};
  /// Below this utilization a node takes new work itself; above it, work
  /// goes to the least used node with room (Ray's hybrid policy).
  double spread_threshold = 0.5;

  /// Where a lease request should go.
  struct placement {
    enum kind_t { here, there, nowhere, refused } kind = nowhere;
    wire::unique_id node; // for `there`
    std::string why;      // for `refused`
  };

  /// Where a request for `shape` goes, by its strategy:
  /// - hybrid: here while this node has room and is used below
  ///   `spread_threshold`; else the least used node with room now (here
  ///   included); else here if this node can run the shape some day; else
  ///   a node that can, the least busy one;
  /// - spread: the next node with room after the last one chosen, in id
  ///   order (here included); without room anywhere as hybrid;
  /// - node affinity: that node if it can run the shape some day (busy or
  ///   not); else, soft, as hybrid, and hard, `refused`.
  /// A request another node `spilled` here (`req.spilled`, or the caller
  /// says so) waits here unless this node can never run it.
  placement place(const wire::resource_set& shape, const lease_request& req,
                  bool spilled) const;

  /// The last node a spread request went to.
  mutable wire::unique_id spread_cursor;

  /// Counts a request sent to `node` against its room until its next row
  /// (or `sent_hold`).
  void sent_to(const wire::unique_id& node, const wire::resource_set& shape);

  /// What is free on the other node `node` as far as this raylet knows.
  wire::resource_set room_of(const wire::unique_id& node,
                             const wire::node_info& row) const;

  /// Takes in rows of the view: changed nodes, and dead ones to forget.
  void merge_view(std::vector<wire::node_info> rows);

  /// True when `req` fits in what is available now.
  bool fits(const wire::resource_set& req) const;

  /// True when `req` fits in the node's total: it can run here some day.
  bool feasible(const wire::resource_set& req) const;

  void acquire(const wire::resource_set& req);
  void release(const wire::resource_set& req);

  /// Queues a request for a shape the node can run; one it can never run
  /// goes to `infeasible` instead and the call returns false.
  bool enqueue(const wire::resource_set& shape, lease_request req);

  /// Takes out the waiting lease requests, and the actors not yet started
  /// unless detached, of the process `worker` (the ids it minted): its owner
  /// is gone. Ends the leases it held. Returns the requests taken out.
  std::vector<lease_request> drop_work_of(uint64_t worker,
                                          size_t& dropped_actors,
                                          size_t& ended_leases);

  /// Marks a lease blocked, returning its resources; false if unknown.
  bool block(uint64_t lease_id);

  /// Takes the resources back (possibly oversubscribing, as Ray does).
  bool unblock(uint64_t lease_id);

  /// Ends a lease, returning its resources; the executor, if any, is idle.
  void finish(uint64_t lease_id);

  // -- worker processes ------------------------------------------------------

  bool processes() const {
    return static_cast<bool>(factory.start_worker);
  }

  /// Worker processes by token, started or registered.
  std::map<uint64_t, worker_process> workers;
  /// Registered worker processes without a lease, by job.
  std::map<uint64_t, std::vector<uint64_t>> idle_workers;
  /// Worker processes started and not registered yet, by job.
  std::map<uint64_t, uint32_t> starting;
  /// Worker processes of a job that ended before they registered, in a
  /// row: past `max_start_failures` the job's waiting requests fail.
  std::map<uint64_t, uint32_t> start_failures;
  static constexpr uint32_t max_start_failures = 3;
  /// The libraries of each running job, for its worker processes.
  std::map<uint64_t, std::vector<std::string>> job_libraries;
  uint64_t next_token = 1;

  /// A registered worker process without a lease for `job`, taken out of
  /// the idle ones; 0 if none.
  uint64_t take_idle_worker(uint64_t job);

  /// The idle worker processes idle since `now - factory.worker_idle_timeout`
  /// or longer, taken out of the idle ones (asked to end, they take no
  /// lease).
  std::vector<uint64_t>
  take_expired_workers(std::chrono::steady_clock::time_point now);

  /// Puts a worker process back among the idle ones, idle from `now`.
  void idle_again(uint64_t token, std::chrono::steady_clock::time_point now);

  /// Which requests wait for a worker process, as if granted in order while
  /// resources last: how many more processes each job needs (beyond those
  /// starting), capped by `max_executors` processes in all. A job without
  /// any gets as many as the node has CPUs at once (as Ray prestarts), so
  /// that its next tasks find one ready.
  std::map<uint64_t, uint32_t> workers_wanted() const;

  /// The worker process `token` is gone: forgotten, and the lease it
  /// served (if any) ends. Returns that lease's owner and number (null
  /// owner if it had none).
  std::pair<wire::owner_actor, uint64_t> worker_gone(uint64_t token);

  /// Takes out the waiting lease requests of `job`.
  std::vector<lease_request> drop_requests_of_job(uint64_t job);

  uint64_t pending() const {
    return queued + pending_actors.size() + infeasible.size();
  }

  /// A placement group's bundle on this node: its resources are set aside
  /// (reserved); once committed, the group's tasks may use them under the
  /// bundle's own names (`wire::bundle_supply`).
  struct bundle {
    wire::resource_set resources;
    bool committed = false;
  };
  std::map<std::pair<wire::unique_id, uint32_t>, bundle> bundles;

  /// Sets a bundle's resources aside; false without room. Asking again for
  /// a bundle reserved already succeeds.
  bool prepare_bundle(const wire::unique_id& group, uint32_t index,
                      const wire::resource_set& resources);

  /// Makes a reserved bundle usable; false if it is not reserved here.
  bool commit_bundle(const wire::unique_id& group, uint32_t index);

  /// Gives a bundle back, reserved or usable; false if unknown.
  bool free_bundle(const wire::unique_id& group, uint32_t index);

  /// Requests waiting for what no node had that this one has now go to the
  /// queues; returns how many.
  size_t requeue_feasible();

  /// Placement groups known to be removed, the most recent
  /// `removed_groups_kept` of them: requests for them are refused. An older
  /// one is found again by asking the gcs (`groups_asked`).
  std::set<wire::unique_id> removed_groups;
  std::deque<wire::unique_id> removed_order;
  size_t removed_groups_kept = 4096;
  /// Groups the raylet asked the gcs about (a request of theirs found no
  /// node), until it answers.
  std::set<wire::unique_id> groups_asked;

  bool group_removed(const wire::unique_id& group) const {
    return removed_groups.count(group) > 0;
  }

  /// The groups that waiting requests and actors draw on.
  std::set<wire::unique_id> waiting_groups() const;

  /// The group was removed: gives back its bundles here and takes out its
  /// waiting requests (returned) and actors not yet started (counted in
  /// `dropped_actors`). Later requests and reservations for it are refused.
  std::vector<lease_request> remove_group(const wire::unique_id& group,
                                          size_t& dropped_actors);
};

/// The raylet's own view of itself: its public interface plus its timers.
using raylet_impl = wire::raylet_actor::extend<
  // Time to report resource use to the gcs.
  caf::reacts_to<wire::report_atom>,
  // Time to look for worker processes that ended.
  caf::reacts_to<wire::idle_atom>,
  // Time to see whether the store's use changed.
  caf::reacts_to<wire::stats_atom>>;

/// Spawns nothing itself: `factory` makes executors and actor hosts.
raylet_impl::behavior_type
raylet(raylet_impl::stateful_pointer<raylet_state> self,
       wire::node_info info, uint32_t max_executors, worker_factory factory,
       wire::gcs_actor gcs, double spread_threshold);

} // namespace caraway::node
