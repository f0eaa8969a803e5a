#pragma once

// The atoms of every interface, and the handles that records carry (the
// owner, a store, an actor host). Declared ahead of the records, which are
// only named here: a handle's signatures need no complete message types.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "caraway/wire/ids.hpp"
#include "caraway/wire/resource_set.hpp"

namespace caraway::wire {

struct task_spec;
struct task_result;
struct actor_info;
struct node_info;
struct placement_group_info;
struct actor_spec;
struct worker_info;
struct object_info;
struct metric_sample;

using submit_atom = caf::atom_constant<caf::atom("submit")>;
using execute_atom = caf::atom_constant<caf::atom("execute")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using blocked_atom = caf::atom_constant<caf::atom("blocked")>;
using unblocked_atom = caf::atom_constant<caf::atom("unblocked")>;
using create_atom = caf::atom_constant<caf::atom("create")>;
using call_atom = caf::atom_constant<caf::atom("call")>;
using kill_atom = caf::atom_constant<caf::atom("kill")>;
using alive_atom = caf::atom_constant<caf::atom("alive")>;
using dead_atom = caf::atom_constant<caf::atom("dead")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using update_atom = caf::atom_constant<caf::atom("update")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using nodes_atom = caf::atom_constant<caf::atom("nodes")>;
using actors_atom = caf::atom_constant<caf::atom("actors")>;
using job_atom = caf::atom_constant<caf::atom("job")>;
using free_atom = caf::atom_constant<caf::atom("free")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using jobs_atom = caf::atom_constant<caf::atom("jobs")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using load_atom = caf::atom_constant<caf::atom("load")>;
using borrow_atom = caf::atom_constant<caf::atom("borrow")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using unpin_atom = caf::atom_constant<caf::atom("unpin")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using located_atom = caf::atom_constant<caf::atom("located")>;
using owner_atom = caf::atom_constant<caf::atom("owner")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
using lease_atom = caf::atom_constant<caf::atom("lease")>;
using view_atom = caf::atom_constant<caf::atom("view")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using rejoin_atom = caf::atom_constant<caf::atom("rejoin")>;
using group_atom = caf::atom_constant<caf::atom("pgroup")>;
using prepare_atom = caf::atom_constant<caf::atom("prepare")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using events_atom = caf::atom_constant<caf::atom("events")>;
using tasks_atom = caf::atom_constant<caf::atom("tasks")>;
using log_atom = caf::atom_constant<caf::atom("log")>;
using objects_atom = caf::atom_constant<caf::atom("objects")>;
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;

/// Object store of one node: its memory is used in-process directly; these
/// messages serve everyone else.
using object_store_actor = caf::typed_actor<
  // Bytes in use, capacity, number of objects.
  caf::replies_to<stats_atom>::with<uint64_t, uint64_t, uint64_t>,
  // The owners released these objects.
  caf::reacts_to<free_atom, std::vector<object_id>>>;

/// Runs stateless tasks one at a time on a thread of its own.
using executor_actor = caf::typed_actor<
  // Run these tasks of one owner one after another under the lease the
  // owner holds; the last result carries the lease (`lease_done`), which is
  // free then. A batch saves a round trip per task.
  caf::reacts_to<execute_atom, std::vector<task_spec>, uint64_t>,
  // Host this actor under this lease, in this process (a worker process its
  // raylet started for it), which ends with the actor.
  caf::reacts_to<create_atom, actor_spec, uint64_t>,
  // An idle worker process: end unless it holds what others need (objects
  // it owns, results in its store); true if it ends.
  caf::replies_to<stop_atom>::with<bool>,
  // A worker process whose job ended: end now, after reporting what it
  // knows (its raylet kills it if it takes too long).
  caf::reacts_to<stop_atom, job_atom>>;

/// Schedules work on one node.
using raylet_actor = caf::typed_actor<
  // A worker lease for tasks of this shape (resources, nesting depth) for
  // the owner of the ids `worker` mints. The reply grants one (an executor,
  // the lease number and this node's id) once resources are free here, or
  // sends the owner on to another node (no executor; that node's id).
  // `spilled`: the owner was sent here by another node; it is not sent on
  // again unless this node cannot run the shape at all. Then the tasks'
  // strategy (`wire::strategy` as a number) with its node and softness for
  // a node affinity; a hard one that cannot be met fails with
  // `unschedulable`.
  // `job`: the job whose code the tasks run (a node running user code in
  // worker processes leases a worker of that job). A grant also says where
  // the executor's process listens when that is not the raylet's (a worker
  // process: owners connect to it directly), else it is empty.
  caf::replies_to<lease_atom, resource_set, uint32_t, uint64_t, bool, uint8_t,
                  unique_id, bool, uint64_t>::with<executor_actor, uint64_t,
                                                   unique_id, std::string>,
  // The owner gives a lease back: its executor is free.
  caf::reacts_to<done_atom, uint64_t>,
  // A worker process this raylet started (`token`) is ready: its executor,
  // its pid and the host:port where it listens. Sent by its owner, which is
  // told of cancelled tasks.
  caf::reacts_to<register_atom, uint64_t, executor_actor, int32_t, std::string>,
  // The gcs publishes the cluster's resource view: rows of nodes whose use
  // changed, joined (ready for work) or died (`alive` false).
  caf::reacts_to<view_atom, std::vector<node_info>>,
  // The task holding this lease waits in `get`: lend its resources out.
  caf::reacts_to<blocked_atom, uint64_t>,
  // ...and wants them back.
  caf::reacts_to<unblocked_atom, uint64_t>,
  // Host an actor once its resources are free (sent by the gcs).
  caf::reacts_to<create_atom, actor_spec>,
  // The owner cancelled this task, which runs (or waits in a batch) here:
  // flag it, and with `recursive` cancel the tasks it submitted.
  caf::reacts_to<cancel_atom, task_id, bool>,
  // Placement groups, two phases (from the gcs): reserve a bundle of group
  // `id` (false: no room now); make a reserved bundle usable by the tasks
  // of the group (false: not reserved here); give a bundle back, reserved
  // or usable; the group was removed: give back its bundles here, and
  // fail the tasks and drop the actors that wait for it.
  caf::replies_to<group_atom, prepare_atom, unique_id, uint32_t,
                  resource_set>::with<bool>,
  caf::replies_to<group_atom, commit_atom, unique_id, uint32_t>::with<bool>,
  caf::reacts_to<group_atom, free_atom, unique_id, uint32_t>,
  caf::reacts_to<group_atom, kill_atom, unique_id>,
  // This node rejoined a restarted head, whose tables place these bundles
  // (group, index) here: keep those, give back the others, and fail the
  // waiting tasks of groups that are gone.
  caf::reacts_to<group_atom, rejoin_atom, std::vector<unique_id>,
                 std::vector<uint32_t>>,
  // Resources, queue length and object store use of this node.
  caf::replies_to<status_atom>::with<node_info>,
  // A process (the sender) on or using this node, with this pid, recorded
  // these metrics (all of them, as they are now); its node serves them
  // until the process is gone.
  caf::reacts_to<metrics_atom, int32_t, std::vector<metric_sample>>,
  // The metrics of those processes, each sample labelled with its pid.
  caf::replies_to<metrics_atom>::with<std::vector<metric_sample>>,
  // Stop this node (its daemon exits once the raylet is gone).
  caf::reacts_to<stop_atom>,
  // The owner of the ids minted by this worker is gone: drop its waiting
  // tasks and free its objects.
  caf::reacts_to<free_atom, uint64_t>,
  // The job starts, with these shared libraries of user code: load them
  // (each once), or note them for the job's worker processes. The reply
  // says why each one that failed did not load.
  caf::replies_to<load_atom, uint64_t,
                  std::vector<std::string>>::with<std::vector<std::string>>,
  // The job ended: its worker processes end.
  caf::reacts_to<free_atom, job_atom, uint64_t>,
  // This node's object store, where the objects of its worker processes
  // live (their owners free them there, even after the process is gone).
  caf::replies_to<get_atom>::with<object_store_actor>,
  // The worker processes this node started, running or ended, with their
  // output files (none on a node that runs tasks on threads).
  caf::replies_to<log_atom>::with<std::vector<worker_info>>,
  // The last `lines` lines (0: all) of what worker `pid` wrote to stdout
  // and to stderr; `not_found` for a pid that is not one of its workers.
  caf::replies_to<log_atom, int32_t, uint32_t>::with<std::string, std::string>,
  // The last lines of one component's log file of the node's daemon.
  caf::replies_to<log_atom, std::string, uint32_t>::with<std::string>>;

/// The owner (core worker) of a process: receives the outcome of the tasks
/// it submitted and the state changes of actors.
using owner_actor = caf::typed_actor<
  // A task or actor method call finished.
  caf::reacts_to<result_atom, task_result>,
  // The gcs publishes an actor's new state.
  caf::reacts_to<update_atom, actor_info>,
  // The gcs publishes a node that joined (connect to it directly; lease
  // workers from its raylet) or died (`alive` false, no raylet: its tasks
  // run again elsewhere).
  caf::reacts_to<update_atom, node_info, raylet_actor>,
  // The executor holding this process' lease finished the tasks it was
  // sent (said apart from a result only when it had none, or its results
  // went straight into this process): send it more, or give it back.
  caf::reacts_to<done_atom, uint64_t>,
  // The worker process holding this lease died (why: its signal or exit
  // code, and the node): the tasks sent there run again or fail.
  caf::reacts_to<dead_atom, uint64_t, std::string>,
  // Cancel this task if it runs (or waits to) in this process, a worker
  // process of a node; with `recursive` its children too.
  caf::reacts_to<cancel_atom, task_id, bool>,
  // Lines a worker process printed while it ran this process' tasks, each
  // prefixed with the task and where it ran.
  caf::reacts_to<log_atom, std::vector<std::string>>,
  // Tasks handed back unrun (their executor blocked in `get`): run them
  // elsewhere.
  caf::reacts_to<submit_atom, std::vector<task_spec>>,
  // Another node's store now holds a copy of this object: free it along.
  caf::reacts_to<located_atom, object_id, object_store_actor>,
  // Another process holds a ref to an object this one owns; false when the
  // object is gone.
  caf::replies_to<borrow_atom, object_id>::with<bool>,
  // ...and let go of it.
  caf::reacts_to<release_atom, object_id>,
  // The receiver of a value containing this object holds it now: drop the
  // ref kept for it.
  caf::reacts_to<unpin_atom, object_id>,
  // The object once it is ready: its value or where to pull it, or why it
  // failed.
  caf::replies_to<get_atom, object_id>::with<task_result>,
  // The objects this process owns, largest first, at most this many, and
  // how many it owns; or one of them (`not_found` if it does not own it).
  caf::replies_to<objects_atom, uint32_t>::with<std::vector<object_info>,
                                               uint64_t>,
  caf::replies_to<objects_atom, object_id>::with<object_info>>;

/// Holds one user actor and runs its methods.
using actor_host_actor = caf::typed_actor<
  // Construct the user object (sent once by the raylet that spawned it).
  caf::reacts_to<create_atom>,
  // Run a method call.
  caf::reacts_to<call_atom, task_spec>,
  // Stop after the call in progress.
  caf::reacts_to<kill_atom>>;

} // namespace caraway::wire
