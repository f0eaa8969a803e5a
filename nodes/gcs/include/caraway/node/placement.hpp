#pragma once

// Placement groups in the gcs: the table of groups and where their bundles
// go. Pure logic; the gcs actor reserves the bundles on the raylets in two
// phases (groups.cpp).

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_addr.hpp>

#include "caraway/wire/records.hpp"

namespace caraway::node {

/// Free resources of one live node, as the gcs last heard.
struct node_room {
  wire::unique_id id;
  wire::resource_set free;
};

/// A node for each bundle by `strategy`, out of `nodes` (free resources now;
/// every bundle uses what it is placed on): empty when they do not all fit,
/// with the reason in `why`.
/// - pack: all on one node if one has room, else as few nodes as a greedy
///   pass finds;
/// - spread: each bundle on a node no other bundle uses while there is one
///   with room, else on any with room;
/// - strict_pack: all on one node, or not at all;
/// - strict_spread: each on a node of its own, or not at all.
/// With `kept` (a node per bundle, nil for those to place), the bundles
/// with a node stay on it, reserved already, and the others are placed
/// around them by the same rules: a group that lost some bundles keeps the
/// rest.
std::vector<wire::unique_id>
place_bundles(wire::placement_strategy strategy,
              const std::vector<wire::resource_set>& bundles,
              std::vector<node_room> nodes, std::string& why,
              const std::vector<wire::unique_id>& kept = {});

/// The gcs' placement groups.
class group_table {
public:
  struct entry {
    wire::placement_group_info info;
    /// The process that created it: the group goes with it.
    caf::actor_addr owner;
    /// A two-phase reservation is on its way (`attempt` numbers it).
    bool reserving = false;
    uint64_t attempt = 0;
    /// Answers to the current attempt's reservations: 1 reserved, 0 not,
    /// -1 not yet answered.
    std::vector<int8_t> prepared;
  };

  /// Adds a pending group; false when its name is taken in its namespace.
  bool add(wire::placement_group_info info, caf::actor_addr owner);

  entry* find(const wire::unique_id& id);

  /// The group named so, unless removed; null if none.
  const entry* find_named(const std::string& ns, const std::string& name) const;

  /// Marks a group removed and frees its name; false when there is no such
  /// group or it was removed before.
  bool remove(const wire::unique_id& id);

  /// Groups waiting for room (pending or rescheduling, no reservation on
  /// its way).
  std::vector<wire::unique_id> waiting() const;

  /// Groups created by `owner`, or by the process minting ids with
  /// `worker` as their high word (unless 0), not removed.
  std::vector<wire::unique_id> owned_by(const caf::actor_addr& owner,
                                        uint64_t worker) const;

  /// Takes a group back as a restarted head read it (replacing what it had
  /// of it): without its owner until `adopt` gives it.
  void put(wire::placement_group_info info);

  /// Forgets a group.
  void erase(const wire::unique_id& id);

  /// The process minting ids with `worker` is back, as `owner`: its groups
  /// go with it from now on.
  void adopt(uint64_t worker, const caf::actor_addr& owner);

  /// The bundles the table places on `node` (group, index), of groups
  /// not removed.
  std::vector<std::pair<wire::unique_id, uint32_t>>
  bundles_on(const wire::unique_id& node) const;

  /// Groups with a bundle on `node`, not removed.
  std::vector<wire::unique_id> on_node(const wire::unique_id& node) const;

  std::vector<wire::placement_group_info> list() const;

private:
  /// The ids of the groups `pred` accepts.
  template <class Pred>
  std::vector<wire::unique_id> select(Pred pred) const;

  std::map<wire::unique_id, entry> groups_;
  std::map<std::pair<std::string, std::string>, wire::unique_id> names_;
};

} // namespace caraway::node
