#pragma once

// The typed interface of every component: the only thing one component knows
// about another. Moving a component to another process changes how its handle
// is obtained, nothing else. Messages a component sends only to itself
// (timers, hand-offs between its threads) are on a private extension in its
// own header, not here. One atom is one verb.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "caraway/wire/records.hpp"

namespace caraway::wire {

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
using place_atom = caf::atom_constant<caf::atom("place")>;
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

/// Object store of one node: its memory is used in-process directly; these
/// messages serve everyone else.
using object_store_actor = caf::typed_actor<
  // Bytes in use, capacity, number of objects.
  caf::replies_to<stats_atom>::with<uint64_t, uint64_t, uint64_t>,
  // The owners released these objects.
  caf::reacts_to<free_atom, std::vector<object_id>>>;

/// The owner (core worker) of a process: receives the outcome of the tasks
/// it submitted and the state changes of actors.
using owner_actor = caf::typed_actor<
  // A task or actor method call finished.
  caf::reacts_to<result_atom, task_result>,
  // The gcs publishes an actor's new state.
  caf::reacts_to<update_atom, actor_info>,
  // The gcs publishes a node that joined: connect to it directly.
  caf::reacts_to<update_atom, node_info>,
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
  caf::replies_to<get_atom, object_id>::with<task_result>>;

/// Runs stateless tasks one at a time on a thread of its own.
using executor_actor = caf::typed_actor<
  // Run these tasks one after another under one lease (the resources the
  // raylet granted); a batch saves a round trip to the raylet per task.
  caf::reacts_to<execute_atom, std::vector<task_spec>, uint64_t>>;

/// Holds one user actor and runs its methods.
using actor_host_actor = caf::typed_actor<
  // Construct the user object (sent once by the raylet that spawned it).
  caf::reacts_to<create_atom>,
  // Run a method call.
  caf::reacts_to<call_atom, task_spec>,
  // Stop after the call in progress.
  caf::reacts_to<kill_atom>>;

/// Schedules work on one node.
using raylet_actor = caf::typed_actor<
  // Queue a task whose arguments are resolved.
  caf::reacts_to<submit_atom, task_spec>,
  // The executor holding this lease finished its tasks.
  caf::reacts_to<done_atom, uint64_t>,
  // The task holding this lease waits in `get`: lend its resources out.
  caf::reacts_to<blocked_atom, uint64_t>,
  // ...and wants them back.
  caf::reacts_to<unblocked_atom, uint64_t>,
  // Host an actor once its resources are free (sent by the gcs).
  caf::reacts_to<create_atom, actor_spec>,
  // Resources, queue length and object store use of this node.
  caf::replies_to<status_atom>::with<node_info>,
  // Stop this node (its daemon exits once the raylet is gone).
  caf::reacts_to<stop_atom>,
  // Load these shared libraries with user code (each once); the reply says
  // why each one that failed did not load.
  caf::replies_to<load_atom,
                  std::vector<std::string>>::with<std::vector<std::string>>>;

/// The cluster's directory: nodes, actors and jobs.
using gcs_actor = caf::typed_actor<
  // A raylet joins the cluster.
  caf::reacts_to<register_atom, node_info, raylet_actor>,
  // A driver joins with its owner and the libraries of its user code; the
  // reply, once the live nodes loaded them, is its job number and the raylet
  // to submit its tasks to. The job ends when the owner is gone.
  caf::replies_to<job_atom, std::string, owner_actor,
                  std::vector<std::string>>::with<uint64_t, raylet_actor>,
  // Create an actor; fails when its name is taken in its namespace.
  caf::replies_to<create_atom, actor_spec>::with<actor_id>,
  // An actor host finished its constructor.
  caf::reacts_to<alive_atom, actor_id, actor_host_actor>,
  // An actor is gone (its constructor threw, or its host stopped).
  caf::reacts_to<dead_atom, actor_id, error_info>,
  // A live node other than `asker` whose resources cover the request: in
  // total, or (with `now`) free at the moment as last reported.
  caf::replies_to<place_atom, resource_set, unique_id, bool>::with<
    raylet_actor>,
  // A raylet reports its resource use.
  caf::reacts_to<report_atom, node_info>,
  // Find a named actor; a nil id in the reply means no such actor.
  caf::replies_to<lookup_atom, std::string, std::string>::with<actor_info>,
  // Find an actor by id, e.g. for a handle that arrived in an argument; a
  // nil id in the reply means the gcs never heard of it.
  caf::replies_to<lookup_atom, actor_id>::with<actor_info>,
  // Kill an actor; false when no such actor lives.
  caf::replies_to<kill_atom, actor_id>::with<bool>,
  // Publish actor state changes to this owner.
  caf::reacts_to<subscribe_atom, owner_actor>,
  // List nodes (with live resource use), actors and jobs (number ->
  // "<driver> running|finished").
  caf::replies_to<nodes_atom>::with<std::vector<node_info>>,
  caf::replies_to<actors_atom>::with<std::vector<actor_info>>,
  caf::replies_to<jobs_atom>::with<std::map<uint64_t, std::string>>,
  // A process announces its owner: the ids it mints carry `worker` in
  // their high word.
  caf::reacts_to<owner_atom, uint64_t, owner_actor>,
  // The owner of the ids minted by `worker`; invalid when unknown or gone.
  caf::replies_to<owner_atom, uint64_t>::with<owner_actor>,
  // Stop every node of the cluster, then the gcs.
  caf::replies_to<stop_atom>::with<bool>>;

} // namespace caraway::wire
