#include "owner.hpp"

#include <caf/all.hpp>

#include "core_worker.hpp"

namespace caraway::core {

wire::owner_actor::behavior_type
owner(wire::owner_actor::stateful_pointer<owner_state>, core_worker* core) {
  return {
    [=](wire::done_atom, wire::task_result& result) {
      core->on_result(result);
    },
    [=](wire::update_atom, const wire::actor_info& info) {
      core->on_actor_update(info);
    },
  };
}

} // namespace caraway::core
