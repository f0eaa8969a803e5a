#include "caraway/node/raylet.hpp"

#include <algorithm>

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
