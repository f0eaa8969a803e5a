#include "caraway/node/raylet.hpp"

#include <algorithm>
#include <limits>

#include "caraway/log.hpp"

namespace caraway::node {

bool raylet_state::fits(const wire::resource_set& req) const {
  return req.fits_in(info.available);
}

bool raylet_state::feasible(const wire::resource_set& req) const {
  return req.fits_in(info.total);
}

void raylet_state::acquire(const wire::resource_set& req) {
  info.available -= req;
}

void raylet_state::release(const wire::resource_set& req) {
  info.available += req;
}

bool raylet_state::enqueue(const wire::resource_set& shape,
                           lease_request req) {
  if (!feasible(shape)) {
    infeasible.emplace_back(shape, std::move(req));
    return false;
  }
  auto key = queue_key{-static_cast<int64_t>(req.depth), next_seq++};
  queues[shape].emplace(key, std::move(req));
  ++queued;
  return true;
}

std::vector<lease_request> raylet_state::drop_work_of(uint64_t worker,
                                                      size_t& dropped_actors,
                                                      size_t& ended_leases) {
  std::vector<lease_request> dropped;
  for (auto q = queues.begin(); q != queues.end();) {
    auto& requests = q->second;
    for (auto i = requests.begin(); i != requests.end();) {
      if (i->second.worker == worker) {
        dropped.emplace_back(std::move(i->second));
        i = requests.erase(i);
        --queued;
      } else {
        ++i;
      }
    }
    q = requests.empty() ? queues.erase(q) : std::next(q);
  }
  for (auto i = infeasible.begin(); i != infeasible.end();) {
    if (i->second.worker == worker) {
      dropped.emplace_back(std::move(i->second));
      i = infeasible.erase(i);
    } else {
      ++i;
    }
  }
  auto n = pending_actors.size();
  pending_actors.erase(std::remove_if(pending_actors.begin(),
                                      pending_actors.end(),
                                      [worker](const wire::actor_spec& spec) {
                                        return spec.id.hi == worker
                                               && !spec.detached;
                                      }),
                       pending_actors.end());
  dropped_actors = n - pending_actors.size();
  std::vector<uint64_t> held;
  for (auto& [id, l] : leases)
    if (l.executor && l.worker == worker)
      held.push_back(id);
  for (auto id : held)
    finish(id);
  ended_leases = held.size();
  return dropped;
}

raylet_state::placement raylet_state::place(const wire::resource_set& shape,
                                            bool spilled) const {
  placement result;
  bool room_here = fits(shape);
  if (room_here && (spilled || shape.utilization(info.total, info.available) < spread_threshold)) {
    result.kind = placement::here;
    return result;
  }
  if (!spilled) {
    double best = 2;
    if (room_here) {
      result.kind = placement::here;
      best = shape.utilization(info.total, info.available);
    }
    for (auto& [id, node] : view) {
      if (!shape.fits_in(node.available))
        continue;
      auto u = shape.utilization(node.total, node.available);
      if (u < best) {
        best = u;
        result.kind = placement::there;
        result.node = id;
      }
    }
    if (result.kind != placement::nowhere)
      return result;
  }
  if (feasible(shape)) {
    result.kind = placement::here;
    return result;
  }
  uint64_t least = std::numeric_limits<uint64_t>::max();
  for (auto& [id, node] : view) {
    if (shape.fits_in(node.total) && node.pending_tasks < least) {
      least = node.pending_tasks;
      result.kind = placement::there;
      result.node = id;
    }
  }
  return result;
}

void raylet_state::sent_to(const wire::unique_id& node,
                           const wire::resource_set& shape) {
  auto i = view.find(node);
  if (i == view.end())
    return;
  i->second.available -= shape;
  ++i->second.pending_tasks;
}

void raylet_state::merge_view(std::vector<wire::node_info> rows) {
  for (auto& row : rows) {
    if (row.id == info.id)
      continue;
    if (!row.alive)
      view.erase(row.id);
    else
      view[row.id] = std::move(row);
  }
}

bool raylet_state::block(uint64_t lease_id) {
  auto i = leases.find(lease_id);
  if (i == leases.end() || i->second.blocked)
    return false;
  i->second.blocked = true;
  release(i->second.held);
  return true;
}

bool raylet_state::unblock(uint64_t lease_id) {
  auto i = leases.find(lease_id);
  if (i == leases.end() || !i->second.blocked)
    return false;
  i->second.blocked = false;
  acquire(i->second.held);
  return true;
}

void raylet_state::finish(uint64_t lease_id) {
  auto i = leases.find(lease_id);
  if (i == leases.end())
    return;
  if (!i->second.blocked)
    release(i->second.held);
  if (i->second.executor)
    idle.emplace_back(std::move(i->second.executor));
  leases.erase(i);
}

} // namespace caraway::node
