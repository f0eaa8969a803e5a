#pragma once

// The gcs' placement groups: reserving their bundles on the raylets in two
// phases, giving them back, and placing them again when a node dies.

#include "caraway/node/gcs.hpp"

namespace caraway::node {

using gcs_self = gcs_impl::stateful_pointer<gcs_state>;

/// Tries to place and reserve every group waiting for room; while some
/// still wait, tries again shortly.
void place_groups(gcs_self self);

/// Marks the group removed: every node gives back its bundles and fails
/// the tasks waiting for it, and its actors die; false if there is no such
/// group or it was removed before.
bool remove_group(gcs_self self, const wire::unique_id& id);

/// A node died: the groups with bundles there give back the rest and are
/// placed again (rescheduling).
void groups_lost_node(gcs_self self, const wire::unique_id& node);

/// The process that created these groups is gone (`owner`, or the one
/// minting ids with `worker` when it never came back after a restart of
/// the head): they go too.
void groups_of_gone_owner(gcs_self self, uint64_t worker,
                          const caf::actor_addr& owner);

/// A node rejoined a restarted head: it keeps the bundles the tables place
/// there and gives back the others.
void groups_rejoined_node(gcs_self self, const wire::unique_id& node,
                          const wire::raylet_actor& raylet);

/// Marks an actor dead, tells everyone and stops its host; false if it was
/// dead or unknown already (in gcs.cpp).
bool kill_actor(gcs_self self, const wire::actor_id& id, wire::error_info why);

} // namespace caraway::node
