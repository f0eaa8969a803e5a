#include "owner.hpp"

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "caraway/log.hpp"
#include "caraway/wire/connect.hpp"
#include "core_worker.hpp"

namespace caraway::core {

namespace {

using self_ptr = wire::owner_actor::stateful_pointer<owner_state>;

// Opens a direct connection to a node. CAF routes messages to a node it only
// learned of through the head via the head, unless connected directly.
void dial(self_ptr self, core_worker* core, const wire::node_info& info) {
  auto& st = self->state;
  if (!info.alive || info.address.empty() || info.address == st.own_address
      || !self->system().has_middleman()
      || !st.dialed.insert(info.address).second)
    return;
  std::string host;
  uint16_t port = 0;
  std::string why;
  if (!wire::split_address(info.address, host, port, why))
    return;
  auto address = info.address;
  auto timeout = std::chrono::milliseconds(core->cfg().connect_timeout_ms);
  self
    ->request(self->system().middleman().actor_handle(), timeout,
              caf::connect_atom::value, std::move(host), port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr&,
          const std::set<std::string>&) {
        CARAWAY_LOG(debug, owner) << "connected" << log::kv("node", address);
      },
      [=](caf::error& err) {
        CARAWAY_LOG(warning, owner)
          << "no direct connection; messages go through the head"
          << log::kv("node", address)
          << log::kv("error", self->system().render(err));
        self->state.dialed.erase(address);
      });
}

} // namespace

wire::owner_actor::behavior_type owner(self_ptr self, core_worker* core,
                                       std::string own_address) {
  self->state.own_address = std::move(own_address);
  return {
    [=](wire::done_atom, wire::task_result& result) {
      core->on_result(result);
    },
    [=](wire::update_atom, const wire::actor_info& info) {
      core->on_actor_update(info);
    },
    [=](wire::update_atom, const wire::node_info& info) {
      dial(self, core, info);
    },
  };
}

} // namespace caraway::core
