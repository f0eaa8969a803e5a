#include "caraway/node/placement.hpp"

#include <algorithm>
#include <set>

namespace caraway::node {

namespace {

using wire::placement_strategy;

// The node with the most room for `bundle` among those `allowed` lets
// through; null when none has room.
template <class Allowed>
node_room* roomiest(std::vector<node_room>& nodes,
                    const wire::resource_set& bundle, Allowed allowed) {
  node_room* best = nullptr;
  double most = 0;
  for (auto& node : nodes) {
    if (!allowed(node) || !bundle.fits_in(node.free))
      continue;
    // How often the bundle fits: the more, the emptier the node for it.
    auto times = bundle.times_in(node.free);
    if (best == nullptr || times > most) {
      best = &node;
      most = times;
    }
  }
  return best;
}

std::string count(size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

} // namespace

std::vector<wire::unique_id>
place_bundles(placement_strategy strategy,
              const std::vector<wire::resource_set>& bundles,
              std::vector<node_room> nodes, std::string& why,
              const std::vector<wire::unique_id>& kept) {
  std::vector<wire::unique_id> result;
  if (bundles.empty())
    return result;
  auto kept_at = [&](size_t i) {
    return i < kept.size() ? kept[i] : wire::unique_id{};
  };
  // The nodes the group keeps bundles on, and what it still has to place.
  std::set<wire::unique_id> used;
  wire::resource_set all;
  size_t missing = 0;
  for (size_t i = 0; i < bundles.size(); ++i) {
    if (kept_at(i).nil()) {
      all += bundles[i];
      ++missing;
    } else {
      used.insert(kept_at(i));
    }
  }
  if (strategy == placement_strategy::pack
      || strategy == placement_strategy::strict_pack) {
    // One node for the rest: the one kept, if any (strict_pack keeps at
    // most one).
    auto on_kept = [&](const node_room& n) {
      return used.empty() || used.count(n.id) > 0;
    };
    if (auto* node = roomiest(nodes, all, on_kept)) {
      for (size_t i = 0; i < bundles.size(); ++i)
        result.push_back(kept_at(i).nil() ? node->id : kept_at(i));
      return result;
    }
    if (strategy == placement_strategy::strict_pack) {
      why = "no node has room for all " + count(missing, "bundle")
            + " together";
      return {};
    }
  }
  for (size_t i = 0; i < bundles.size(); ++i) {
    auto& bundle = bundles[i];
    if (!kept_at(i).nil()) {
      result.push_back(kept_at(i));
      continue;
    }
    node_room* node = nullptr;
    switch (strategy) {
      case placement_strategy::pack:
        // Nodes used already first, in the order they were taken.
        for (auto& id : result) {
          auto j = std::find_if(nodes.begin(), nodes.end(),
                                [&](auto& n) { return n.id == id; });
          if (j != nodes.end() && bundle.fits_in(j->free)) {
            node = &*j;
            break;
          }
        }
        if (node == nullptr)
          node = roomiest(nodes, bundle, [](auto&) { return true; });
        break;
      case placement_strategy::spread:
        node = roomiest(nodes, bundle,
                        [&](auto& n) { return used.count(n.id) == 0; });
        if (node == nullptr)
          node = roomiest(nodes, bundle, [](auto&) { return true; });
        break;
      default: // strict_spread; strict_pack returned above
        node = roomiest(nodes, bundle,
                        [&](auto& n) { return used.count(n.id) == 0; });
        break;
    }
    if (node == nullptr) {
      why = strategy == placement_strategy::strict_spread
              ? "STRICT_SPREAD needs " + count(bundles.size(), "node")
                  + " with room, one per bundle; "
                  + count(used.size(), "node") + " had room for bundles 0 to "
                  + std::to_string(i) + " (exclusive)"
              : "no node has room for bundle " + std::to_string(i);
      return {};
    }
    node->free -= bundle;
    used.insert(node->id);
    result.push_back(node->id);
  }
  return result;
}

bool group_table::add(wire::placement_group_info info, caf::actor_addr owner) {
  if (!info.name.empty()) {
    auto key = std::make_pair(info.ns, info.name);
    if (names_.count(key) > 0)
      return false;
    names_.emplace(key, info.id);
  }
  info.state = wire::placement_group_state::pending;
  info.nodes.assign(info.bundles.size(), wire::unique_id{});
  auto id = info.id;
  entry e;
  e.info = std::move(info);
  e.owner = std::move(owner);
  groups_[id] = std::move(e);
  return true;
}

group_table::entry* group_table::find(const wire::unique_id& id) {
  auto i = groups_.find(id);
  return i != groups_.end() ? &i->second : nullptr;
}

const group_table::entry*
group_table::find_named(const std::string& ns, const std::string& name) const {
  auto i = names_.find({ns, name});
  if (i == names_.end())
    return nullptr;
  auto j = groups_.find(i->second);
  return j != groups_.end() ? &j->second : nullptr;
}

bool group_table::remove(const wire::unique_id& id) {
  auto e = find(id);
  if (e == nullptr || e->info.state == wire::placement_group_state::removed)
    return false;
  e->info.state = wire::placement_group_state::removed;
  e->info.why.clear();
  if (!e->info.name.empty())
    names_.erase({e->info.ns, e->info.name});
  return true;
}

template <class Pred>
std::vector<wire::unique_id> group_table::select(Pred pred) const {
  std::vector<wire::unique_id> result;
  for (auto& [id, e] : groups_)
    if (pred(e))
      result.push_back(id);
  return result;
}

std::vector<wire::unique_id> group_table::waiting() const {
  return select([](const entry& e) {
    return !e.reserving
           && (e.info.state == wire::placement_group_state::pending
               || e.info.state == wire::placement_group_state::rescheduling);
  });
}

std::vector<wire::unique_id>
group_table::owned_by(const caf::actor_addr& owner, uint64_t worker) const {
  return select([&](const entry& e) {
    return ((e.owner && e.owner == owner)
            || (worker != 0 && e.info.id.hi == worker))
           && e.info.state != wire::placement_group_state::removed;
  });
}

void group_table::put(wire::placement_group_info info) {
  auto id = info.id;
  erase(id);
  if (!info.name.empty()
      && info.state != wire::placement_group_state::removed)
    names_[{info.ns, info.name}] = id;
  groups_[id].info = std::move(info);
}

void group_table::erase(const wire::unique_id& id) {
  auto i = groups_.find(id);
  if (i == groups_.end())
    return;
  auto n = names_.find({i->second.info.ns, i->second.info.name});
  if (n != names_.end() && n->second == id)
    names_.erase(n);
  groups_.erase(i);
}

void group_table::adopt(uint64_t worker, const caf::actor_addr& owner) {
  for (auto& [id, e] : groups_)
    if (!e.owner && id.hi == worker)
      e.owner = owner;
}

std::vector<std::pair<wire::unique_id, uint32_t>>
group_table::bundles_on(const wire::unique_id& node) const {
  std::vector<std::pair<wire::unique_id, uint32_t>> result;
  for (auto& [id, e] : groups_) {
    if (e.info.state == wire::placement_group_state::removed)
      continue;
    for (uint32_t i = 0; i < e.info.nodes.size(); ++i)
      if (e.info.nodes[i] == node)
        result.emplace_back(id, i);
  }
  return result;
}

std::vector<wire::unique_id>
group_table::on_node(const wire::unique_id& node) const {
  return select([&](const entry& e) {
    return e.info.state != wire::placement_group_state::removed
           && std::find(e.info.nodes.begin(), e.info.nodes.end(), node)
                != e.info.nodes.end();
  });
}

std::vector<wire::placement_group_info> group_table::list() const {
  std::vector<wire::placement_group_info> result;
  for (auto& [id, e] : groups_)
    result.push_back(e.info);
  return result;
}

} // namespace caraway::node
