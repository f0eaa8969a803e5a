#pragma once

// Placement groups: bundles of resources reserved together across nodes, as
// in Ray. Tasks and actors placed in a bundle draw on its resources only.
//
//   auto pg = caraway::placement_group({{{"CPU", 1}}, {{"CPU", 1}}},
//                                      caraway::strategy::strict_spread)
//               .name("pg")
//               .remote();
//   pg.wait(std::chrono::seconds(10));
//   caraway::task(work).placement_group(pg, 0).remote();

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caraway/object_ref.hpp"

namespace caraway {

/// How a placement group's bundles go onto nodes.
enum class strategy : uint8_t {
  pack,          // as few nodes as possible
  spread,        // as many nodes as possible
  strict_pack,   // all on one node, or not at all
  strict_spread, // one node per bundle, or not at all
};

enum class placement_group_state : uint8_t {
  pending,      // waiting for room to reserve every bundle
  created,      // every bundle reserved
  removed,      // given back
  rescheduling, // a node with bundles died: they are placed again
};

/// "PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD".
std::string to_string(strategy x);

/// "PENDING", "CREATED", "REMOVED", "RESCHEDULING".
std::string to_string(placement_group_state x);

/// Resources of one bundle, e.g. {{"CPU", 1}, {"GPU", 1}}.
using bundle = std::map<std::string, double>;

/// A placement group. Copies refer to the same group; it lives until
/// removed or until the process that created it exits.
class placement_group_handle {
public:
  placement_group_handle() = default;

  /// 32 hex digits.
  const std::string& id() const {
    return id_;
  }

  /// Empty for an anonymous group.
  const std::string& name() const {
    return name_;
  }

  caraway::strategy placement_strategy() const {
    return strategy_;
  }

  const std::vector<bundle>& bundles() const {
    return bundles_;
  }

  /// The group's state now, as the gcs has it.
  placement_group_state state() const;

  /// The node id of each bundle (empty strings while not reserved).
  std::vector<std::string> bundle_nodes() const;

  /// Waits until every bundle is reserved: true then, false after
  /// `timeout` or once the group is removed.
  bool wait(std::chrono::milliseconds timeout) const;

  /// Becomes ready once every bundle is reserved: a task that runs in the
  /// group, as Ray does it. Its `get` throws `unschedulable_error` if the
  /// group is removed first.
  object_ref<void> ready() const;

  bool valid() const {
    return !id_.empty();
  }

  friend bool operator==(const placement_group_handle& x,
                         const placement_group_handle& y) {
    return x.id_ == y.id_;
  }

private:
  friend class placement_group_builder;
  friend struct placement_group_access;

  std::string id_;
  std::string name_;
  caraway::strategy strategy_ = caraway::strategy::pack;
  std::vector<bundle> bundles_;
};

/// Builds a placement group; `remote` creates it.
class placement_group_builder {
public:
  placement_group_builder(std::vector<bundle> bundles, caraway::strategy s);

  /// A name to find it by (`get_placement_group`), unique in the namespace.
  placement_group_builder& name(std::string value) {
    name_ = std::move(value);
    return *this;
  }

  /// Creates the group: its bundles are reserved as soon as there is room.
  /// Throws `invalid_argument_error` for an empty or invalid bundle list
  /// and for a name taken already.
  placement_group_handle remote() const;

private:
  std::vector<bundle> bundles_;
  caraway::strategy strategy_;
  std::string name_;
};

namespace detail {

/// Throws `invalid_argument_error` unless `group` is valid and has bundle
/// `index` (-1: any).
void check_bundle(const placement_group_handle& group, int64_t index);

} // namespace detail

/// Starts a placement group of these bundles.
inline placement_group_builder placement_group(std::vector<bundle> bundles,
                                               strategy s = strategy::pack) {
  return placement_group_builder{std::move(bundles), s};
}

/// Gives the group's bundles back; tasks and actors still pending in it
/// wait forever. Removing a removed group does nothing.
void remove_placement_group(const placement_group_handle& group);

/// The group named so in this namespace; throws `invalid_argument_error`
/// if there is none (or it was removed).
placement_group_handle get_placement_group(const std::string& name);

/// Every placement group the cluster knows, removed ones included.
std::vector<placement_group_handle> placement_groups();

} // namespace caraway
