#include "groups.hpp"

#include <caf/all.hpp>

#include "caraway/log.hpp"

namespace caraway::node {

namespace {

using wire::placement_group_state;

// A raylet that does not answer within this long has not reserved the
// bundle; the group tries again (elsewhere, if the node died).
constexpr auto reserve_timeout = std::chrono::seconds(5);

// How often groups waiting for room try again.
constexpr auto retry_period = std::chrono::milliseconds(200);

wire::raylet_actor raylet_of(gcs_self self, const wire::unique_id& node) {
  for (auto& n : self->state.nodes)
    if (n.info.id == node && n.info.alive)
      return n.raylet;
  return {};
}

void retry_soon(gcs_self self) {
  auto& st = self->state;
  if (st.groups_retry_scheduled)
    return;
  st.groups_retry_scheduled = true;
  self->delayed_send(self, retry_period, wire::group_atom::value,
                     wire::retry_atom::value);
}

void give_back(gcs_self self, const wire::unique_id& group, uint32_t index,
               const wire::unique_id& node) {
  if (auto raylet = raylet_of(self, node))
    self->send(raylet, wire::group_atom::value, wire::free_atom::value, group,
               index);
}

// Gives back the group's bundles that `lost` names (by index) and waits to
// place them again, saying why; the others stay where they are.
template <class Lost>
void reschedule_group(gcs_self self, const wire::unique_id& id, Lost lost,
                      const std::string& why) {
  auto e = self->state.groups.find(id);
  if (e == nullptr || e->info.state == placement_group_state::removed)
    return;
  auto& info = e->info;
  size_t n = 0;
  for (uint32_t i = 0; i < info.nodes.size(); ++i) {
    if (info.nodes[i].nil() || !lost(i))
      continue;
    give_back(self, id, i, info.nodes[i]);
    info.nodes[i] = {};
    ++n;
  }
  // Also a group placing lost bundles again may lose more.
  if (n == 0)
    return;
  info.state = placement_group_state::rescheduling;
  info.why = why;
  self->state.save_group(id);
  CARAWAY_LOG(warning, gcs) << "placement group lost bundles; placing them "
                               "again"
                            << log::kv("id", wire::to_string(id))
                            << log::kv("bundles", n) << log::kv("why", why);
}

// A bundle of a created group did not become usable: the group is placed
// again (the node's reservation, if any, given back too).
void commit_failed(gcs_self self, const wire::unique_id& id, uint64_t attempt,
                   uint32_t index, const wire::unique_id& node,
                   const std::string& why) {
  auto e = self->state.groups.find(id);
  if (e == nullptr || e->attempt != attempt)
    return;
  CARAWAY_LOG(warning, gcs)
    << "a bundle was not committed" << log::kv("group", wire::to_string(id))
    << log::kv("index", index) << log::kv("node", wire::to_string(node))
    << log::kv("why", why);
  // All of it: its other bundles may be on that node too.
  reschedule_group(self, id, [](uint32_t) { return true; },
                   "bundle " + std::to_string(index) + " on node "
                     + wire::to_string(node) + " failed: " + why);
  place_groups(self);
}

// What a node said of a bundle in the first phase.
constexpr int8_t unanswered = -1;
constexpr int8_t refused = 0;
constexpr int8_t reserved = 1;
// Reserved before this attempt: a bundle the group kept.
constexpr int8_t kept = 2;

// Every raylet answered the first phase of `attempt`: commit everywhere,
// or give back what was reserved and wait for room again.
void finish_attempt(gcs_self self, const wire::unique_id& id,
                    std::vector<wire::unique_id> nodes) {
  auto e = self->state.groups.find(id);
  e->reserving = false;
  bool all = std::none_of(e->prepared.begin(), e->prepared.end(),
                          [](int8_t x) { return x == refused; });
  auto& info = e->info;
  // A bundle kept from before was lost meanwhile (its node died): that one
  // is placed again with the next attempt.
  for (uint32_t i = 0; i < nodes.size(); ++i)
    if (e->prepared[i] == kept && info.nodes[i].nil())
      all = false;
  if (info.state == placement_group_state::removed || !all) {
    for (uint32_t i = 0; i < nodes.size(); ++i)
      if (e->prepared[i] == reserved)
        give_back(self, id, i, nodes[i]);
    if (info.state != placement_group_state::removed) {
      info.why = "a node had no room for its bundle any more";
      retry_soon(self);
    }
    return;
  }
  auto attempt = e->attempt;
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    if (e->prepared[i] == kept)
      continue;
    auto raylet = raylet_of(self, nodes[i]);
    if (!raylet)
      continue; // died meanwhile: the group is placed again
    auto node = nodes[i];
    self
      ->request(raylet, reserve_timeout, wire::group_atom::value,
                wire::commit_atom::value, id, i)
      .then(
        [=](bool ok) {
          if (!ok)
            commit_failed(self, id, attempt, i, node,
                          "the node no longer held the reserved bundle");
        },
        [=](caf::error& err) {
          commit_failed(self, id, attempt, i, node,
                        "the node did not confirm the bundle: "
                          + self->system().render(err));
        });
  }
  info.nodes = std::move(nodes);
  info.state = placement_group_state::created;
  info.why.clear();
  self->state.save_group(id);
  CARAWAY_LOG(info, gcs) << "placement group created"
                         << log::kv("id", wire::to_string(id))
                         << log::kv("name", info.name)
                         << log::kv("bundles", info.bundles.size());
}

// First phase: asks each node to set its bundle aside.
void reserve(gcs_self self, group_table::entry& e,
             std::vector<wire::unique_id> nodes) {
  auto id = e.info.id;
  auto attempt = ++e.attempt;
  e.reserving = true;
  e.prepared.assign(nodes.size(), unanswered);
  for (uint32_t i = 0; i < nodes.size(); ++i)
    if (!e.info.nodes[i].nil())
      e.prepared[i] = kept;
  for (uint32_t i = 0; i < nodes.size(); ++i) {
    if (e.prepared[i] == kept)
      continue;
    auto answer = [=](bool ok) {
      auto g = self->state.groups.find(id);
      if (g == nullptr || g->attempt != attempt || !g->reserving)
        return;
      g->prepared[i] = ok ? reserved : refused;
      if (std::none_of(g->prepared.begin(), g->prepared.end(),
                       [](int8_t x) { return x == unanswered; }))
        finish_attempt(self, id, nodes);
    };
    auto raylet = raylet_of(self, nodes[i]);
    if (!raylet) {
      answer(false);
      continue;
    }
    self
      ->request(raylet, reserve_timeout, wire::group_atom::value,
                wire::prepare_atom::value, id, i, e.info.bundles[i])
      .then([=](bool ok) { answer(ok); },
            [=](caf::error&) {
              // Reserved after all, perhaps: giving back is harmless.
              give_back(self, id, i, nodes[i]);
              answer(false);
            });
  }
}

} // namespace

void place_groups(gcs_self self) {
  auto& st = self->state;
  auto waiting = st.groups.waiting();
  if (waiting.empty())
    return;
  std::vector<node_room> room;
  for (auto& node : st.nodes)
    if (node.info.alive && node.raylet && node.ready)
      room.push_back({node.info.id, node.info.available});
  for (auto& id : waiting) {
    auto e = st.groups.find(id);
    std::string why;
    auto nodes = place_bundles(e->info.strategy, e->info.bundles, room, why,
                               e->info.nodes);
    if (nodes.empty()) {
      e->info.why = why;
      continue;
    }
    // What this group takes is not there for the next one.
    for (size_t i = 0; i < nodes.size(); ++i)
      if (e->info.nodes[i].nil())
        for (auto& r : room)
          if (r.id == nodes[i])
            r.free -= e->info.bundles[i];
    reserve(self, *e, std::move(nodes));
  }
  if (!st.groups.waiting().empty())
    retry_soon(self);
}

bool remove_group(gcs_self self, const wire::unique_id& id) {
  auto& st = self->state;
  if (!st.groups.remove(id))
    return false;
  st.save_group(id);
  // Every node hears it, not only those with bundles: tasks of the group
  // may wait anywhere. A node then refuses to reserve for it, so a
  // reservation on its way ends given back too.
  for (auto& node : st.nodes)
    if (node.info.alive && node.raylet)
      self->send(node.raylet, wire::group_atom::value, wire::kill_atom::value,
                 id);
  std::vector<wire::actor_id> actors;
  for (auto& [actor, entry] : st.actors)
    if (entry.info.state != wire::actor_state::dead
        && wire::group_of(entry.spec.resources) == id)
      actors.push_back(actor);
  for (auto& actor : actors)
    kill_actor(self, actor,
               {wire::error_kind::actor_died, "",
                "its placement group " + wire::to_string(id)
                  + " was removed"});
  CARAWAY_LOG(info, gcs) << "placement group removed"
                         << log::kv("id", wire::to_string(id))
                         << log::kv("actors_ended", actors.size());
  return true;
}

void groups_lost_node(gcs_self self, const wire::unique_id& node) {
  for (auto& id : self->state.groups.on_node(node)) {
    auto e = self->state.groups.find(id);
    reschedule_group(self, id,
                     [&](uint32_t i) { return e->info.nodes[i] == node; },
                     "node " + wire::to_string(node) + " with a bundle died");
  }
  place_groups(self);
}

void groups_of_gone_owner(gcs_self self, uint64_t worker,
                          const caf::actor_addr& owner) {
  for (auto& id : self->state.groups.owned_by(owner, worker))
    remove_group(self, id);
}

void groups_rejoined_node(gcs_self self, const wire::unique_id& node,
                          const wire::raylet_actor& raylet) {
  std::vector<wire::unique_id> groups;
  std::vector<uint32_t> indices;
  for (auto& [id, index] : self->state.groups.bundles_on(node)) {
    groups.push_back(id);
    indices.push_back(index);
  }
  self->send(raylet, wire::group_atom::value, wire::rejoin_atom::value,
             std::move(groups), std::move(indices));
  place_groups(self);
}

} // namespace caraway::node
