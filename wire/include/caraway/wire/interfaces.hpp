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

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "caraway/wire/records.hpp" // also the handles records carry

namespace caraway::wire {

/// The cluster's directory: nodes, actors and jobs.
using gcs_actor = caf::typed_actor<
  // A raylet joins the cluster.
  caf::reacts_to<register_atom, node_info, raylet_actor>,
  // A raylet that lost the head comes back (the head restarted, or the
  // connection broke): true if it may serve on; false if the gcs declared
  // it dead or does not know it, and then it stops.
  caf::replies_to<rejoin_atom, node_info, raylet_actor>::with<bool>,
  // A driver joins with its owner and the libraries of its user code; the
  // reply, once the live nodes loaded them, is its job number and the raylet
  // (and node) to submit its tasks to. The job ends when the owner is gone.
  caf::replies_to<job_atom, std::string, owner_actor,
                  std::vector<std::string>>::with<uint64_t, raylet_actor,
                                                  unique_id>,
  // A driver that lost the head comes back to its job (number, driver,
  // owner, libraries); the reply is as for `job_atom`. Fails with `fenced`
  // for a job the gcs does not know or that ended.
  caf::replies_to<rejoin_atom, uint64_t, std::string, owner_actor,
                  std::vector<std::string>>::with<uint64_t, raylet_actor,
                                                  unique_id>,
  // Placement groups: create one for the process of this owner, which it
  // does not outlive (fails when its name is taken in its namespace; the
  // reply is its id, the bundles are reserved later); look
  // one up by id or by name and namespace (nil id: no such group); remove
  // one (false: no such group, or removed already); list them.
  caf::replies_to<group_atom, create_atom, placement_group_info,
                  owner_actor>::with<unique_id>,
  caf::replies_to<group_atom, lookup_atom,
                  unique_id>::with<placement_group_info>,
  caf::replies_to<group_atom, lookup_atom, std::string,
                  std::string>::with<placement_group_info>,
  caf::replies_to<group_atom, kill_atom, unique_id>::with<bool>,
  caf::replies_to<group_atom>::with<std::vector<placement_group_info>>,
  // Create an actor; fails when its name is taken in its namespace.
  caf::replies_to<create_atom, actor_spec>::with<actor_id>,
  // An actor host finished its constructor; callers connect to its process
  // at this host:port (empty: its node's address), whose pid this is.
  caf::reacts_to<alive_atom, actor_id, actor_host_actor, std::string,
                 int32_t>,
  // An actor is gone (its constructor threw, or its host stopped).
  caf::reacts_to<dead_atom, actor_id, error_info>,
  // Instance `num_restarts` of an actor ended with its worker process (its
  // raylet says why): restart it or let it die, as for a lost host.
  caf::reacts_to<dead_atom, actor_id, uint32_t, error_info>,
  // A raylet reports its resource use.
  caf::reacts_to<report_atom, node_info>,
  // Find a named actor; a nil id in the reply means no such actor.
  caf::replies_to<lookup_atom, std::string, std::string>::with<actor_info>,
  // Find an actor by id, e.g. for a handle that arrived in an argument; a
  // nil id in the reply means the gcs never heard of it.
  caf::replies_to<lookup_atom, actor_id>::with<actor_info>,
  // Kill an actor; false when no such actor lives.
  // ...and with `no_restart` false, let it restart if it has restarts left.
  caf::replies_to<kill_atom, actor_id, bool>::with<bool>,
  // End an actor for a reason its creator gives (its last handle is gone).
  caf::reacts_to<kill_atom, actor_id, error_info>,
  // Publish actor state changes to this owner.
  caf::reacts_to<subscribe_atom, owner_actor>,
  // List nodes (with live resource use), actors and jobs (number ->
  // "<driver> running|finished").
  caf::replies_to<nodes_atom>::with<std::vector<node_info>>,
  caf::replies_to<actors_atom>::with<std::vector<actor_info>>,
  caf::replies_to<jobs_atom>::with<std::map<uint64_t, std::string>>,
  // Owners report what became of their tasks, in batches; the task table
  // (the latest tasks, up to a bound) answers `caraway list tasks`.
  caf::reacts_to<events_atom, std::vector<task_info>>,
  caf::replies_to<tasks_atom>::with<std::vector<task_info>>,
  // The objects the live owners own, largest first, at most this many; how
  // many they own in all; and how many owners did not answer in time. Or
  // one object, from its owner (`not_found`: no live owner has it).
  caf::replies_to<objects_atom, uint32_t>::with<std::vector<object_info>,
                                               uint64_t, uint32_t>,
  caf::replies_to<objects_atom, object_id>::with<object_info>,
  // A process announces its owner: the ids it mints carry `worker` in
  // their high word.
  caf::reacts_to<owner_atom, uint64_t, owner_actor>,
  // The owner of the ids minted by `worker`; invalid when unknown or gone.
  caf::replies_to<owner_atom, uint64_t>::with<owner_actor>,
  // The raylet of this live node answers (`not_found` for a node not
  // alive): its worker processes, or the end of one's output.
  caf::replies_to<log_atom, unique_id>::with<std::vector<worker_info>>,
  caf::replies_to<log_atom, unique_id, int32_t, uint32_t>::with<std::string,
                                                                std::string>,
  // A node's daemon: the last lines of one component's log file.
  caf::replies_to<log_atom, unique_id, std::string,
                  uint32_t>::with<std::string>,
  // Stop every node of the cluster, then the gcs.
  caf::replies_to<stop_atom>::with<bool>>;

} // namespace caraway::wire
