#include "caraway/node/raylet.hpp"

#include <algorithm>
#include <cmath>
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

size_t raylet_state::batch_size(const wire::resource_set& shape,
                               size_t queued) const {
  // Slots: how many tasks of this shape the node runs at once. Hand out at
  // most half the queue per round of slots, so that slots freeing up later
  // still find work queued here instead of behind a long task.
  double slots = shape.times_in(info.total);
  if (std::isinf(slots) || slots < 1)
    slots = 1;
  auto per_slot = static_cast<size_t>(queued / (2 * slots));
  return std::max<size_t>(1, std::min<size_t>(per_slot, max_batch));
}

bool raylet_state::enqueue(wire::task_spec spec) {
  if (!feasible(spec.resources)) {
    infeasible.emplace_back(std::move(spec));
    return false;
  }
  auto key = queue_key{-static_cast<int64_t>(spec.depth), next_seq++};
  queues[spec.resources].emplace(key, std::move(spec));
  ++queued;
  return true;
}

size_t raylet_state::drop_work_of(uint64_t worker) {
  size_t dropped = 0;
  for (auto q = queues.begin(); q != queues.end();) {
    auto& tasks = q->second;
    for (auto i = tasks.begin(); i != tasks.end();) {
      if (i->second.id.hi == worker) {
        i = tasks.erase(i);
        --queued;
        ++dropped;
      } else {
        ++i;
      }
    }
    q = tasks.empty() ? queues.erase(q) : std::next(q);
  }
  auto of_worker = [worker](const wire::task_spec& spec) {
    return spec.id.hi == worker;
  };
  auto n = infeasible.size();
  infeasible.erase(
    std::remove_if(infeasible.begin(), infeasible.end(), of_worker),
    infeasible.end());
  dropped += n - infeasible.size();
  n = pending_actors.size();
  pending_actors.erase(std::remove_if(pending_actors.begin(),
                                      pending_actors.end(),
                                      [worker](const wire::actor_spec& spec) {
                                        return spec.id.hi == worker
                                               && !spec.detached;
                                      }),
                       pending_actors.end());
  dropped += n - pending_actors.size();
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
