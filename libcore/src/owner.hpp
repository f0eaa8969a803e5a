#pragma once

#include <set>
#include <string>

#include "caraway/wire/interfaces.hpp"

namespace caraway::core {

class core_worker;

struct owner_state {
  static inline const char* name = "caraway.owner";
  /// This process' own node address (empty in a driver).
  std::string own_address;
  /// Nodes connected to, or being connected to.
  std::set<std::string> dialed;
};

/// The message face of the core worker: results and actor updates arrive
/// here and go straight into its tables.
wire::owner_actor::behavior_type
owner(wire::owner_actor::stateful_pointer<owner_state> self, core_worker* core,
      std::string own_address);

} // namespace caraway::core
