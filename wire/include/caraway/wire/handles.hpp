#pragma once

// The atoms of every interface, and the handles that records carry (the
// owner, a store, an actor host). Declared ahead of the records, which are
// only named here: a handle's signatures need no complete message types.

#include <cstdint>
#include <vector>

#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "caraway/wire/ids.hpp"

namespace caraway::wire {

struct task_spec;
struct task_result;
struct actor_info;
struct node_info;

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
using moved_atom = caf::atom_constant<caf::atom("moved")>;
using rejoin_atom = caf::atom_constant<caf::atom("rejoin")>;

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
  // The gcs publishes a node that joined (connect to it directly) or died
  // (`alive` false: its tasks run again elsewhere).
  caf::reacts_to<update_atom, node_info>,
  // A raylet sent this attempt of a task on to the raylet of another node.
  caf::reacts_to<moved_atom, task_id, uint32_t, unique_id>,
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

/// Holds one user actor and runs its methods.
using actor_host_actor = caf::typed_actor<
  // Construct the user object (sent once by the raylet that spawned it).
  caf::reacts_to<create_atom>,
  // Run a method call.
  caf::reacts_to<call_atom, task_spec>,
  // Stop after the call in progress.
  caf::reacts_to<kill_atom>>;

} // namespace caraway::wire
