#pragma once

// Where a task may run. By default the hybrid policy places it: on the node
// it was submitted from while that node is used below its spread threshold,
// else on the least used node with room.

#include <cstdint>
#include <string>
#include <utility>

namespace caraway {

struct scheduling_strategy {
  enum class kind : uint8_t {
    hybrid = 0,    // the default
    spread,        // over the nodes with room, one after another
    node_affinity, // on one node
  };
  kind type = kind::hybrid;
  /// For `node_affinity`: the node's id (32 hex digits, as `node_id()` and
  /// `nodes()` give it).
  std::string node;
  /// For `node_affinity`: run elsewhere if that node is dead or cannot run
  /// the task; otherwise such a task fails with `unschedulable_error`.
  bool soft = false;
};

/// Spreads tasks over the nodes with room instead of packing them.
inline scheduling_strategy spread() {
  return {scheduling_strategy::kind::spread, {}, false};
}

/// Runs tasks on the node `node_id` (waiting there while it is busy). With
/// `soft`, a dead or unsuitable node lets them run elsewhere.
inline scheduling_strategy node_affinity(std::string node_id,
                                         bool soft = false) {
  return {scheduling_strategy::kind::node_affinity, std::move(node_id), soft};
}

} // namespace caraway
