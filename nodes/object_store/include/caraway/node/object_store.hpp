#pragma once

#include "caraway/node/store_memory.hpp"
#include "caraway/wire/interfaces.hpp"

namespace caraway::node {

struct object_store_state {
  store_memory_ptr memory;
  static inline const char* name = "caraway.object_store";
};

/// Serves the node's object store to other components.
wire::object_store_actor::behavior_type object_store(
  wire::object_store_actor::stateful_pointer<object_store_state> self,
  store_memory_ptr memory);

} // namespace caraway::node
