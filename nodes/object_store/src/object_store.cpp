#include "caraway/node/object_store.hpp"

#include <caf/all.hpp>

namespace caraway::node {

wire::object_store_actor::behavior_type object_store(
  wire::object_store_actor::stateful_pointer<object_store_state> self,
  store_memory_ptr memory) {
  self->state.memory = std::move(memory);
  return {
    [=](wire::stats_atom) {
      auto st = self->state.memory->get_stats();
      return caf::make_result(st.used_bytes, st.capacity_bytes, st.objects);
    },
    [=](wire::free_atom, const std::vector<wire::object_id>& ids) {
      for (auto& id : ids)
        self->state.memory->release(id);
    },
  };
}

} // namespace caraway::node
