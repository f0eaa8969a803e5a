#pragma once

// The gcs' placement groups: reserving their bundles on the raylets in two
// phases, giving them back, and placing them again when a node dies.

#include "caraway/node/gcs.hpp"

namespace caraway::node {

using gcs_self = gcs_impl::stateful_pointer<gcs_state>;

/// Tries to place and reserve every group waiting for room; while some
/// still wait, tries again shortly.
void place_groups(gcs_self self);

/// Gives the group's bundles back to their nodes and marks it removed;
/// false if there is no such group or it was removed before.
bool remove_group(gcs_self self, const wire::unique_id& id);

/// A node died: the groups with bundles there give back the rest and are
/// placed again (rescheduling).
void groups_lost_node(gcs_self self, const wire::unique_id& node);

/// The process that created these groups is gone: they go too.
void groups_of_gone_owner(gcs_self self, const caf::actor_addr& owner);

} // namespace caraway::node
