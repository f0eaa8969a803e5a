#include "owner/task_submitter.hpp"

#include <algorithm>

namespace caraway::owner {

void task_submitter::local_node(const wire::unique_id& node, actions& out) {
  local_ = node;
  resume(out);
}

void task_submitter::resume(actions& out) {
  std::vector<scheduling_key> shapes;
  for (auto& kvp : shapes_)
    shapes.push_back(kvp.first);
  for (auto& shape : shapes)
    pump(shape, out);
}

void task_submitter::enqueue(const scheduling_key& shape, wire::task_spec spec,
                             uint64_t seq) {
  auto k = key{-static_cast<int64_t>(spec.depth), seq};
  auto& q = shapes_[shape];
  q.tasks.emplace(k, std::move(spec));
}

void task_submitter::submit(wire::task_spec spec, actions& out) {
  auto shape = scheduling_key::of(spec);
  enqueue(shape, std::move(spec), next_seq_++);
  pump(shape, out);
}

void task_submitter::hand_back(std::vector<wire::task_spec> tasks,
                               actions& out) {
  std::vector<scheduling_key> shapes;
  for (auto i = tasks.rbegin(); i != tasks.rend(); ++i) {
    shapes.push_back(scheduling_key::of(*i));
    enqueue(shapes.back(), std::move(*i), --front_seq_);
  }
  std::sort(shapes.begin(), shapes.end());
  shapes.erase(std::unique(shapes.begin(), shapes.end()), shapes.end());
  for (auto& shape : shapes)
    pump(shape, out);
}

bool task_submitter::feed(uint64_t id, held_lease& l, actions& out) {
  auto& q = shapes_[l.shape];
  if (q.tasks.empty())
    return false;
  // Half the queue split over the leases of the shape: leases granted later
  // still find work queued here instead of behind a long batch.
  auto per_lease = q.tasks.size() / (2 * std::max<size_t>(1, q.leases));
  // Spread tasks one at a time, so that each lease request (which goes to
  // the next node) gets some.
  auto most = l.shape.strategy == wire::strategy::spread ? size_t{1}
                                                          : opts_.max_batch;
  auto n = std::clamp<size_t>(per_lease, 1, most);
  n = std::min(n, q.tasks.size());
  batch b{l.executor, id, l.node, {}};
  b.tasks.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto first = q.tasks.begin();
    b.tasks.emplace_back(std::move(first->second));
    q.tasks.erase(first);
  }
  l.busy = true;
  if (q.tasks.empty())
    q.waited = false;
  out.batches.emplace_back(std::move(b));
  return true;
}

void task_submitter::ask(const scheduling_key& shape,
                         const wire::unique_id& node, bool spilled,
                         actions& out) {
  auto& q = shapes_[shape];
  auto depth = q.tasks.empty() ? uint32_t{0}
                               : q.tasks.begin()->second.depth;
  auto token = next_token_++;
  requests_.emplace(token, pending_request{shape, node});
  ++q.requests;
  out.requests.push_back({token, shape, depth, node, spilled});
}

void task_submitter::pump(const scheduling_key& shape, actions& out) {
  auto i = shapes_.find(shape);
  if (i == shapes_.end())
    return;
  auto& q = i->second;
  while (!q.tasks.empty() && !q.idle.empty()) {
    auto id = q.idle.back();
    q.idle.pop_back();
    feed(id, leases_.at(id), out);
  }
  if (q.tasks.empty()) {
    q.waited = false;
    return;
  }
  if (local_.nil())
    return;
  // Nested tasks ask at once: their parents often wait for them in `get`,
  // with the leases of the key blocked.
  auto nested = q.tasks.begin()->second.depth > 0;
  if (q.leases > 0 && q.requests == 0 && !q.waited && !nested) {
    q.waited = true;
    out.recheck = true;
    return;
  }
  q.waited = false;
  auto wanted = std::min<size_t>(opts_.max_pending_requests, q.tasks.size());
  while (q.requests < wanted)
    ask(shape, first_stop(shape), false, out);
}

const wire::unique_id&
task_submitter::first_stop(const scheduling_key& shape) const {
  if (!shape.locality.nil() && dead_.count(shape.locality) == 0)
    return shape.locality;
  return local_;
}

void task_submitter::granted(uint64_t token, wire::executor_actor executor,
                             uint64_t lease, const wire::unique_id& node,
                             actions& out) {
  auto r = requests_.find(token);
  if (r == requests_.end()) {
    // Given up on meanwhile (its node was declared dead).
    out.returns.push_back({node, lease});
    return;
  }
  auto shape = std::move(r->second.shape);
  requests_.erase(r);
  auto& q = shapes_[shape];
  --q.requests;
  if (q.tasks.empty()) {
    out.returns.push_back({node, lease});
    return;
  }
  held_lease l;
  l.executor = std::move(executor);
  l.node = node;
  l.shape = shape;
  ++q.leases;
  auto& held = leases_.emplace(lease, std::move(l)).first->second;
  feed(lease, held, out);
  pump(shape, out);
}

void task_submitter::spilled(uint64_t token, const wire::unique_id& node,
                             actions& out) {
  auto r = requests_.find(token);
  if (r == requests_.end())
    return;
  r->second.node = node;
  auto& q = shapes_[r->second.shape];
  auto depth = q.tasks.empty() ? uint32_t{0}
                               : q.tasks.begin()->second.depth;
  out.requests.push_back({token, r->second.shape, depth, node, true});
}

void task_submitter::failed(uint64_t token) {
  auto r = requests_.find(token);
  if (r == requests_.end())
    return;
  --shapes_[r->second.shape].requests;
  requests_.erase(r);
}

std::optional<wire::task_spec> task_submitter::remove(const wire::task_id& id) {
  for (auto& [key, q] : shapes_) {
    for (auto i = q.tasks.begin(); i != q.tasks.end(); ++i) {
      if (i->second.id == id) {
        auto spec = std::move(i->second);
        q.tasks.erase(i);
        return spec;
      }
    }
  }
  return std::nullopt;
}

std::vector<wire::task_spec> task_submitter::refused(uint64_t token) {
  std::vector<wire::task_spec> result;
  auto r = requests_.find(token);
  if (r == requests_.end())
    return result;
  auto& q = shapes_[r->second.shape];
  --q.requests;
  requests_.erase(r);
  for (auto& kvp : q.tasks)
    result.emplace_back(std::move(kvp.second));
  q.tasks.clear();
  q.waited = false;
  return result;
}

void task_submitter::done(uint64_t lease, clock::time_point now,
                          actions& out) {
  auto i = leases_.find(lease);
  if (i == leases_.end())
    return;
  auto& l = i->second;
  l.busy = false;
  if (feed(lease, l, out))
    return;
  if (l.shape.strategy == wire::strategy::spread) {
    // Kept, it would take the next spread task to the same node.
    out.returns.push_back({l.node, lease});
    --shapes_[l.shape].leases;
    leases_.erase(i);
    return;
  }
  l.idle_since = now;
  shapes_[l.shape].idle.push_back(lease);
}

task_submitter::clock::time_point
task_submitter::expire(clock::time_point now, actions& out) {
  auto next = clock::time_point::max();
  for (auto i = leases_.begin(); i != leases_.end();) {
    auto& l = i->second;
    if (l.busy) {
      ++i;
      continue;
    }
    auto due = l.idle_since + opts_.linger;
    if (due > now) {
      next = std::min(next, due);
      ++i;
      continue;
    }
    out.returns.push_back({l.node, i->first});
    auto& q = shapes_[l.shape];
    --q.leases;
    q.idle.erase(std::remove(q.idle.begin(), q.idle.end(), i->first),
                 q.idle.end());
    i = leases_.erase(i);
  }
  for (auto q = shapes_.begin(); q != shapes_.end();) {
    auto& s = q->second;
    if (s.tasks.empty() && s.requests == 0 && s.leases == 0)
      q = shapes_.erase(q);
    else
      ++q;
  }
  return next;
}

void task_submitter::node_died(const wire::unique_id& node, actions& out) {
  dead_.insert(node);
  // Leases and requests alike: forget those at `node`, and count them off
  // their shape.
  auto drop = [&](auto& table, uint32_t shape_queue::*count) {
    for (auto i = table.begin(); i != table.end();) {
      if (i->second.node == node) {
        --(shapes_[i->second.shape].*count);
        i = table.erase(i);
      } else {
        ++i;
      }
    }
  };
  for (auto& [key, q] : shapes_)
    q.idle.erase(std::remove_if(q.idle.begin(), q.idle.end(),
                                [&](uint64_t id) {
                                  return leases_.at(id).node == node;
                                }),
                 q.idle.end());
  drop(leases_, &shape_queue::leases);
  drop(requests_, &shape_queue::requests);
  if (node != local_)
    resume(out);
}

void task_submitter::lease_lost(uint64_t lease, actions& out) {
  auto i = leases_.find(lease);
  if (i == leases_.end())
    return;
  auto& q = shapes_[i->second.shape];
  --q.leases;
  q.idle.erase(std::remove(q.idle.begin(), q.idle.end(), lease), q.idle.end());
  auto shape = i->second.shape;
  leases_.erase(i);
  // Its tasks come back through the core worker; the others of its shape
  // may need a new lease.
  pump(shape, out);
}

size_t task_submitter::queued() const {
  size_t result = 0;
  for (auto& kvp : shapes_)
    result += kvp.second.tasks.size();
  return result;
}

} // namespace caraway::owner
