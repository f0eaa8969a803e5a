#pragma once

// The owner actor: the message face of the core worker. Results, actor
// updates and borrowers' requests arrive here and go straight into the
// core worker's parts.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/response_promise.hpp>

#include "caraway/wire/interfaces.hpp"
#include "owner/task_submitter.hpp"

namespace caraway::owner {

class core_worker;

struct service_state {
  static inline const char* name = "caraway.owner";
  /// This process' own node address (empty in a driver).
  std::string own_address;
  /// Nodes connected to, or being connected to.
  std::set<std::string> dialed;
  /// The raylets of live nodes, as the gcs published them: where leases
  /// come from, and where a driver submits once its node is gone.
  std::map<wire::unique_id, wire::raylet_actor> raylets;
  /// Tasks waiting for a lease, and the leases held.
  task_submitter submitter;
  /// A timer to give back idle leases is set.
  bool expire_scheduled = false;
  /// A timer to ask again for leases after a failed request is set.
  bool retry_scheduled = false;
  /// A timer to look again at tasks waiting for a busy lease is set.
  bool recheck_scheduled = false;
  /// Owners of other processes' ids, by the high word of the id.
  std::unordered_map<uint64_t, wire::owner_actor> owners;
  /// Callbacks waiting for the gcs to name an owner.
  std::unordered_map<uint64_t,
                     std::vector<std::function<void(const wire::owner_actor&)>>>
    lookups;
  /// Borrowers waiting for objects of this process to be ready.
  std::unordered_map<
    wire::object_id,
    std::vector<caf::typed_response_promise<wire::task_result>>>
    awaited;
};

/// The owner actor's own view of itself: the owner interface plus what
/// its core worker tells it from other threads of this process.
/// Watch the raylet this process submits to, when it is in another process.
using watch_atom = caf::atom_constant<caf::atom("watch")>;
/// Tasks of this process have become ready (`core_worker::take_ready`):
/// lease them a worker.
using queue_atom = caf::atom_constant<caf::atom("queue")>;
/// A task of this process still queued for a lease runs on a thread of this
/// process instead: take it out of the queue.
using take_atom = caf::atom_constant<caf::atom("take")>;

using service_actor = wire::owner_actor::extend<
  caf::reacts_to<watch_atom>, caf::reacts_to<queue_atom>,
  // The task, if it was still queued (and is now marked sent), else one
  // with a nil id.
  caf::replies_to<take_atom, wire::task_id>::with<wire::task_spec>,
  // Time to give back leases that stayed idle.
  caf::reacts_to<wire::idle_atom>,
  // Time to ask again for leases after a request failed.
  caf::reacts_to<wire::retry_atom>,
  // Start borrowing an object another process owns, then let go of the ref
  // `pinned_by` kept for this process (if valid).
  caf::reacts_to<wire::adopt_atom, wire::object_id, wire::owner_actor>,
  // An object a borrower waits for settled.
  caf::reacts_to<wire::ready_atom, wire::object_id>,
  // Time to send the task events recorded meanwhile to the gcs.
  caf::reacts_to<wire::events_atom>,
  // Time to send this process' metrics to its node, if they changed.
  caf::reacts_to<wire::metrics_atom>>;

service_actor::behavior_type
service(service_actor::stateful_pointer<service_state> self, core_worker* core,
        std::string own_address);

} // namespace caraway::owner
