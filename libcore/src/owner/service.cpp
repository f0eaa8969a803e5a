#include "owner/service.hpp"

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "caraway/log.hpp"
#include "caraway/wire/address.hpp"
#include "owner/core_worker.hpp"

namespace caraway::owner {

namespace {

using self_ptr = service_actor::stateful_pointer<service_state>;

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
  auto node = info.id;
  auto timeout = std::chrono::milliseconds(core->cfg().connect_timeout_ms);
  self
    ->request(self->system().middleman().actor_handle(), timeout,
              caf::connect_atom::value, std::move(host), port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>& ifs) {
        CARAWAY_LOG(debug, owner) << "connected" << log::kv("node", address);
        // A worker publishes its raylet (the head its gcs).
        if (ptr && ifs == self->system().message_types<wire::raylet_actor>())
          self->state.raylets[node]
            = caf::actor_cast<wire::raylet_actor>(std::move(ptr));
      },
      [=](caf::error& err) {
        CARAWAY_LOG(warning, owner)
          << "no direct connection; messages go through the head"
          << log::kv("node", address)
          << log::kv("error", self->system().render(err));
        self->state.dialed.erase(address);
      });
}

// Runs `fn` with the owner of the ids that `worker` mints, asking the gcs
// once; an invalid handle means the owner is unknown or gone.
template <class F>
void find_owner(self_ptr self, core_worker* core, uint64_t worker, F fn) {
  auto& st = self->state;
  if (auto i = st.owners.find(worker); i != st.owners.end()) {
    fn(i->second);
    return;
  }
  auto& waiting = st.lookups[worker];
  waiting.emplace_back(std::move(fn));
  if (waiting.size() > 1)
    return;
  auto finish = [=](const wire::owner_actor& owner) {
    auto& st = self->state;
    if (owner) {
      st.owners[worker] = owner;
      self->monitor(owner);
    }
    auto callbacks = std::move(st.lookups[worker]);
    st.lookups.erase(worker);
    for (auto& f : callbacks)
      f(owner);
  };
  auto timeout = std::chrono::milliseconds(core->cfg().request_timeout_ms);
  self->request(core->gcs(), timeout, wire::owner_atom::value, worker)
    .then([=](wire::owner_actor& owner) { finish(owner); },
          [=](caf::error&) { finish(wire::owner_actor{}); });
}

// Borrows `id` from its owner: counted there first, then its value (or
// where to pull it) once ready; `pinned_by` lets go after the count.
void borrow(self_ptr self, core_worker* core, const wire::object_id& id,
            const wire::owner_actor& pinned_by) {
  auto unpin = [=] {
    if (pinned_by)
      self->send(pinned_by, wire::unpin_atom::value, id);
  };
  find_owner(self, core, id.hi, [=](const wire::owner_actor& owner) {
    if (!owner) {
      unpin();
      core->fail_object(
        id, {wire::error_kind::owner_died, "",
             "the owner of object " + wire::to_string(id) + " is gone"});
      return;
    }
    auto timeout = std::chrono::milliseconds(core->cfg().request_timeout_ms);
    self->request(owner, timeout, wire::borrow_atom::value, id)
      .then(
        [=](bool known) {
          unpin();
          if (!known) {
            core->fail_object(id, {wire::error_kind::object_lost, "",
                                      "object " + wire::to_string(id)
                                        + " was freed by its owner"});
            return;
          }
          // A release sent meanwhile could not name the owner: send it now,
          // after the count it undoes.
          if (!core->set_borrowed_owner(id, owner)) {
            self->send(owner, wire::release_atom::value, id);
            return;
          }
          // An actor handle has no value to fetch.
          if (wire::is_actor_id(id))
            return;
          // No timeout: the object may take long; the monitor on the owner
          // fails it if the owner goes.
          self->request(owner, caf::infinite, wire::get_atom::value, id)
            .then([=](wire::task_result& result) { core->on_borrowed(result); },
                  [=](caf::error&) {});
        },
        [=](caf::error& err) {
          unpin();
          core->fail_object(id, {wire::error_kind::owner_died, "",
                                    "the owner of object " + wire::to_string(id)
                                      + " did not answer: "
                                      + self->system().render(err)});
        });
  });
}

} // namespace

service_actor::behavior_type service(self_ptr self, core_worker* core,
                                     std::string own_address) {
  self->state.own_address = std::move(own_address);
  self->set_down_handler([=](caf::down_msg& msg) {
    if (auto raylet = core->raylet(); raylet && msg.source == raylet.address()) {
      auto dead = core->raylet_node();
      auto& raylets = self->state.raylets;
      raylets.erase(dead);
      // A driver submits to another node from now on, so that its tasks
      // (those lost with the node too) run while the head may be away.
      if (self->state.own_address.empty() && !raylets.empty()) {
        auto next = raylets.begin();
        CARAWAY_LOG(warning, owner)
          << "the node this driver submits to is gone; submitting to "
             "another"
          << log::kv("gone", wire::to_string(dead))
          << log::kv("now", wire::to_string(next->first));
        core->switch_raylet(next->second, next->first);
      }
      // The gcs may be gone with it (the head died): nobody else will say.
      core->on_node_died(dead, "the raylet this process submits to");
      return;
    }
    auto& owners = self->state.owners;
    for (auto i = owners.begin(); i != owners.end();)
      i = i->second.address() == msg.source ? owners.erase(i) : std::next(i);
    core->fail_borrowed_from(
      msg.source, {wire::error_kind::owner_died, "",
                   "the process owning the object is gone"});
  });
  return {
    [=](wire::result_atom, wire::task_result& result) {
      core->on_result(result);
    },
    [=](wire::update_atom, const wire::actor_info& info) {
      core->on_actor_update(info);
    },
    [=](wire::update_atom, const wire::node_info& info) {
      if (info.alive) {
        dial(self, core, info);
      } else {
        self->state.raylets.erase(info.id);
        core->on_node_died(info.id, info.address);
      }
    },
    [=](wire::moved_atom, const wire::task_id& id, uint32_t attempt,
        const wire::unique_id& node) { core->on_moved(id, attempt, node); },
    [=](watch_atom) {
      auto raylet = core->raylet();
      if (raylet && raylet->node() != self->node())
        self->monitor(raylet);
    },
    [=](wire::located_atom, const wire::object_id& id,
        wire::object_store_actor& store) {
      if (!core->add_copy(id, store))
        self->send(store, wire::free_atom::value,
                   std::vector<wire::object_id>{id});
    },
    [=](wire::borrow_atom, const wire::object_id& id) {
      return core->add_borrower(id);
    },
    [=](wire::release_atom, const wire::object_id& id) {
      core->remove_borrower(id);
    },
    [=](wire::unpin_atom, const wire::object_id& id) {
      core->unpin(id);
    },
    [=](wire::get_atom,
        const wire::object_id& id) -> caf::result<wire::task_result> {
      auto promise = self->make_response_promise<wire::task_result>();
      auto& waiting = self->state.awaited[id];
      waiting.emplace_back(promise);
      // The core worker sends ready_atom once the object settles.
      if (waiting.size() == 1 && !core->await_for_borrower(id))
        self->send(self, wire::ready_atom::value, id);
      return promise;
    },
    [=](wire::ready_atom, const wire::object_id& id) {
      auto i = self->state.awaited.find(id);
      if (i == self->state.awaited.end())
        return;
      auto result = core->describe(id);
      for (auto& promise : i->second)
        promise.deliver(result);
      self->state.awaited.erase(i);
    },
    [=](wire::adopt_atom, const wire::object_id& id,
        wire::owner_actor& pinned_by) {
      borrow(self, core, id, pinned_by);
    },
  };
}

} // namespace caraway::owner
