#include "caraway/node/raylet.hpp"

#include <algorithm>
#include <limits>

#include "caraway/log.hpp"

namespace caraway::node {

namespace {

// Takes out the waiting requests `takes` (shape, request) and the actors
// not yet started `takes_actor` accepts; returns the requests and counts
// the actors in `dropped_actors`.
template <class Takes, class TakesActor>
std::vector<lease_request> take_waiting(raylet_state& st, Takes takes,
                                        TakesActor takes_actor,
                                        size_t& dropped_actors) {
  std::vector<lease_request> dropped;
  for (auto q = st.queues.begin(); q != st.queues.end();) {
    auto& [shape, requests] = *q;
    for (auto i = requests.begin(); i != requests.end();) {
      if (takes(shape, i->second)) {
        dropped.emplace_back(std::move(i->second));
        i = requests.erase(i);
        --st.queued;
      } else {
        ++i;
      }
    }
    q = requests.empty() ? st.queues.erase(q) : std::next(q);
  }
  for (auto i = st.infeasible.begin(); i != st.infeasible.end();) {
    if (takes(i->first, i->second)) {
      dropped.emplace_back(std::move(i->second));
      i = st.infeasible.erase(i);
    } else {
      ++i;
    }
  }
  auto& actors = st.pending_actors;
  auto n = actors.size();
  actors.erase(std::remove_if(actors.begin(), actors.end(), takes_actor),
               actors.end());
  dropped_actors = n - actors.size();
  return dropped;
}

} // namespace

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
  for (auto& [name, amount] : req)
    if (info.total.count(name) > 0) // not of a bundle given back meanwhile
      info.available[name] += amount;
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
  auto dropped = take_waiting(
    *this,
    [worker](const wire::resource_set&, const lease_request& req) {
      return req.worker == worker;
    },
    [worker](const wire::actor_spec& spec) {
      return spec.id.hi == worker && !spec.detached;
    },
    dropped_actors);
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
                                            const lease_request& req,
                                            bool spilled) const {
  placement result;
  if (req.strategy == wire::strategy::node_affinity) {
    auto& target = req.affinity_node;
    auto where = "node " + wire::to_string(target);
    if (target == info.id) {
      if (feasible(shape)) {
        result.kind = placement::here;
        return result;
      }
      result.why = where + " does not have the resources the task needs";
    } else if (auto i = view.find(target); i != view.end()) {
      if (shape.fits_in(i->second.total)) {
        result.kind = placement::there;
        result.node = target;
        return result;
      }
      result.why = where + " does not have the resources the task needs";
    } else {
      result.why = where + " is dead or unknown";
    }
    if (!req.affinity_soft) {
      result.kind = placement::refused;
      return result;
    }
    result.why.clear();
    spilled = false;
  }
  bool room_here = fits(shape);
  // Its arguments are here: running elsewhere would copy them.
  bool data_here = req.strategy == wire::strategy::hybrid
                   && req.affinity_node == info.id;
  if (room_here
      && (spilled || data_here
          || shape.utilization(info.total, info.available) < spread_threshold)
      && req.strategy != wire::strategy::spread) {
    result.kind = placement::here;
    return result;
  }
  if (!spilled && req.strategy == wire::strategy::spread) {
    // Round robin over the nodes with room, in id order, here included.
    std::vector<wire::unique_id> roomy;
    for (auto& [id, node] : view)
      if (shape.fits_in(room_of(id, node)))
        roomy.push_back(id);
    if (room_here)
      roomy.insert(std::upper_bound(roomy.begin(), roomy.end(), info.id),
                   info.id);
    if (!roomy.empty()) {
      auto next = std::upper_bound(roomy.begin(), roomy.end(), spread_cursor);
      auto chosen = next != roomy.end() ? *next : roomy.front();
      spread_cursor = chosen;
      if (chosen == info.id) {
        result.kind = placement::here;
      } else {
        result.kind = placement::there;
        result.node = chosen;
      }
      return result;
    }
  } else if (!spilled) {
    double best = 2;
    if (room_here) {
      result.kind = placement::here;
      best = shape.utilization(info.total, info.available);
    }
    for (auto& [id, node] : view) {
      auto room = room_of(id, node);
      if (!shape.fits_in(room))
        continue;
      auto u = shape.utilization(node.total, room);
      if (u < best) {
        best = u;
        result.kind = placement::there;
        result.node = id;
      }
    }
    if (result.kind != placement::nowhere)
      return result;
  }
  if (room_here || feasible(shape)) {
    result.kind = placement::here;
    return result;
  }
  uint64_t least = std::numeric_limits<uint64_t>::max();
  for (auto& [id, node] : view) {
    auto i = sent.find(id);
    auto pending = node.pending_tasks + (i != sent.end() ? i->second.size() : 0);
    if (shape.fits_in(node.total) && pending < least) {
      least = pending;
      result.kind = placement::there;
      result.node = id;
    }
  }
  return result;
}

void raylet_state::sent_to(const wire::unique_id& node,
                           const wire::resource_set& shape) {
  auto now = std::chrono::steady_clock::now();
  auto& log = sent[node];
  while (!log.empty() && log.front().first + sent_hold <= now)
    log.pop_front();
  log.emplace_back(now, shape);
}

wire::resource_set raylet_state::room_of(const wire::unique_id& node,
                                         const wire::node_info& row) const {
  auto result = row.available;
  auto i = sent.find(node);
  if (i == sent.end())
    return result;
  auto now = std::chrono::steady_clock::now();
  for (auto& [when, shape] : i->second)
    if (when + sent_hold > now)
      result -= shape;
  return result;
}

void raylet_state::merge_view(std::vector<wire::node_info> rows) {
  for (auto& row : rows) {
    if (row.id == info.id)
      continue;
    sent.erase(row.id);
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
  if (auto token = i->second.token; token != 0) {
    // Back to its job's idle worker processes, unless it is gone.
    if (workers.count(token) > 0)
      idle_again(token, std::chrono::steady_clock::now());
  } else if (i->second.executor) {
    idle.emplace_back(std::move(i->second.executor));
  }
  leases.erase(i);
}

uint64_t raylet_state::take_idle_worker(uint64_t job) {
  auto i = idle_workers.find(job);
  if (i == idle_workers.end() || i->second.empty())
    return 0;
  // The most recently idle one: the others may go idle long enough to end.
  auto token = i->second.back();
  i->second.pop_back();
  if (i->second.empty())
    idle_workers.erase(i);
  return token;
}

void raylet_state::idle_again(uint64_t token,
                              std::chrono::steady_clock::time_point now) {
  auto w = workers.find(token);
  if (w == workers.end())
    return;
  w->second.lease = 0;
  w->second.idle_since = now;
  idle_workers[w->second.job].push_back(token);
}

std::vector<uint64_t>
raylet_state::take_expired_workers(std::chrono::steady_clock::time_point now) {
  std::vector<uint64_t> result;
  for (auto i = idle_workers.begin(); i != idle_workers.end();) {
    auto& tokens = i->second;
    for (auto t = tokens.begin(); t != tokens.end();) {
      auto& w = workers.at(*t);
      if (now - w.idle_since >= factory.worker_idle_timeout) {
        result.push_back(*t);
        t = tokens.erase(t);
      } else {
        ++t;
      }
    }
    i = tokens.empty() ? idle_workers.erase(i) : std::next(i);
  }
  return result;
}

std::map<uint64_t, uint32_t> raylet_state::workers_wanted() const {
  std::map<uint64_t, uint32_t> result;
  auto room = info.available;
  std::map<uint64_t, size_t> idle_left;
  for (auto& [job, tokens] : idle_workers)
    idle_left[job] = tokens.size();
  std::map<uint64_t, uint32_t> needed;
  for (auto& [shape, requests] : queues) {
    for (auto& [key, req] : requests) {
      if (!shape.fits_in(room))
        break;
      room -= shape;
      if (idle_left[req.job] > 0)
        --idle_left[req.job];
      else
        ++needed[req.job];
    }
  }
  auto total = static_cast<uint32_t>(workers.size());
  auto cpus = static_cast<uint32_t>(info.total.amount("CPU"));
  for (auto& [job, n] : needed) {
    bool has_any = std::any_of(workers.begin(), workers.end(), [&](auto& kv) {
      return kv.second.job == job && !kv.second.for_actor();
    });
    if (!has_any)
      n = std::max(n, cpus);
    auto i = starting.find(job);
    auto already = i != starting.end() ? i->second : 0u;
    if (n <= already)
      continue;
    auto more = std::min(n - already,
                         max_executors > total ? max_executors - total : 0u);
    if (more == 0)
      continue;
    result[job] = more;
    total += more;
  }
  return result;
}

std::pair<wire::owner_actor, uint64_t>
raylet_state::worker_gone(uint64_t token) {
  std::pair<wire::owner_actor, uint64_t> result{wire::owner_actor{}, 0};
  auto w = workers.find(token);
  if (w == workers.end())
    return result;
  auto job = w->second.job;
  auto lease_id = w->second.lease;
  if (!w->second.executor && !w->second.for_actor()) {
    if (auto i = starting.find(job); i != starting.end() && --i->second == 0)
      starting.erase(i);
  }
  if (auto i = idle_workers.find(job); i != idle_workers.end()) {
    auto& v = i->second;
    v.erase(std::remove(v.begin(), v.end(), token), v.end());
    if (v.empty())
      idle_workers.erase(i);
  }
  workers.erase(w);
  if (lease_id != 0) {
    if (auto l = leases.find(lease_id); l != leases.end()) {
      result = {l->second.owner, lease_id};
      finish(lease_id);
    }
  }
  return result;
}

std::vector<lease_request> raylet_state::drop_requests_of_job(uint64_t job) {
  size_t actors = 0;
  return take_waiting(
    *this,
    [job](const wire::resource_set&, const lease_request& req) {
      return req.job == job;
    },
    [](const wire::actor_spec&) { return false; }, actors);
}

bool raylet_state::prepare_bundle(const wire::unique_id& group,
                                  uint32_t index,
                                  const wire::resource_set& resources) {
  auto key = std::make_pair(group, index);
  if (bundles.count(key) > 0)
    return true;
  if (group_removed(group))
    return false;
  if (!fits(resources))
    return false;
  acquire(resources);
  bundles.emplace(key, bundle{resources, false});
  return true;
}

bool raylet_state::commit_bundle(const wire::unique_id& group,
                                 uint32_t index) {
  auto i = bundles.find({group, index});
  if (i == bundles.end())
    return false;
  if (!i->second.committed) {
    i->second.committed = true;
    auto supply = wire::bundle_supply(i->second.resources, group, index);
    info.total += supply;
    info.available += supply;
  }
  return true;
}

bool raylet_state::free_bundle(const wire::unique_id& group, uint32_t index) {
  auto i = bundles.find({group, index});
  if (i == bundles.end())
    return false;
  if (i->second.committed) {
    auto supply = wire::bundle_supply(i->second.resources, group, index);
    info.total -= supply;
    info.available -= supply;
    // Names no bundle supplies any more go; tasks still running in the
    // bundle give back to nothing.
    for (auto& [name, amount] : supply) {
      if (info.total.amount(name) <= wire::resource_set::epsilon) {
        info.total.erase(name);
        info.available.erase(name);
      }
    }
  }
  release(i->second.resources);
  bundles.erase(i);
  return true;
}

size_t raylet_state::requeue_feasible() {
  size_t result = 0;
  for (auto i = infeasible.begin(); i != infeasible.end();) {
    if (feasible(i->first)) {
      auto [shape, req] = std::move(*i);
      i = infeasible.erase(i);
      enqueue(shape, std::move(req));
      ++result;
    } else {
      ++i;
    }
  }
  return result;
}

std::set<wire::unique_id> raylet_state::waiting_groups() const {
  std::set<wire::unique_id> result;
  auto add = [&](const wire::resource_set& shape) {
    auto group = wire::group_of(shape);
    if (!group.nil())
      result.insert(group);
  };
  for (auto& [shape, requests] : queues)
    add(shape);
  for (auto& [shape, req] : infeasible)
    add(shape);
  for (auto& spec : pending_actors)
    add(spec.resources);
  return result;
}

std::vector<lease_request>
raylet_state::remove_group(const wire::unique_id& group,
                           size_t& dropped_actors) {
  if (removed_groups.insert(group).second) {
    removed_order.push_back(group);
    while (removed_order.size() > removed_groups_kept) {
      removed_groups.erase(removed_order.front());
      removed_order.pop_front();
    }
  }
  for (auto i = bundles.begin(); i != bundles.end();) {
    auto key = (i++)->first;
    if (key.first == group)
      free_bundle(key.first, key.second);
  }
  auto of_group = [&](const wire::resource_set& shape) {
    return wire::group_of(shape) == group;
  };
  auto dropped = take_waiting(
    *this,
    [&](const wire::resource_set& shape, const lease_request&) {
      return of_group(shape);
    },
    [&](const wire::actor_spec& spec) { return of_group(spec.resources); },
    dropped_actors);
  return dropped;
}

} // namespace caraway::node
