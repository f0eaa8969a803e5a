#include "caraway/node/raylet.hpp"

#include <algorithm>
#include <random>

#include <caf/all.hpp>

#include "caraway/log.hpp"
#include "caraway/wire/errc.hpp"

namespace caraway::node {

namespace {

using self_ptr = raylet_impl::stateful_pointer<raylet_state>;

std::string describe(const wire::resource_set& xs) {
  std::string result = "{";
  for (auto& [name, amount] : xs) {
    if (result.size() > 1)
      result += ", ";
    result += name;
    result += ": ";
    result += std::to_string(amount);
  }
  result += "}";
  return result;
}

void schedule_reap(self_ptr self);

// Starts a worker process of `job` with the job's libraries under a new
// token (set in `token`); returns its pid, or 0 with `why` filled in.
int32_t launch_worker(raylet_state& st, uint64_t job, uint64_t& token,
                      std::string& why) {
  static const std::vector<std::string> none;
  auto libs = st.job_libraries.find(job);
  token = st.next_token++;
  return st.factory.start_worker(
    job, libs != st.job_libraries.end() ? libs->second : none, token, why);
}

// Starts a worker process for the actor, which hosts it once registered.
void start_actor_process(self_ptr self, const wire::actor_spec& spec) {
  auto& st = self->state;
  uint64_t token = 0;
  std::string why;
  auto pid = launch_worker(st, spec.job, token, why);
  if (pid <= 0) {
    CARAWAY_LOG(error, raylet)
      << "cannot start a worker process for an actor"
      << log::kv("class", spec.class_name) << log::kv("error", why);
    self->send(st.gcs, wire::dead_atom::value, spec.id,
               wire::error_info{wire::error_kind::actor_died, "",
                                "node " + wire::to_string(st.info.id)
                                  + " cannot start a worker process for it: "
                                  + why});
    return;
  }
  auto lease_id = st.next_lease++;
  st.acquire(spec.resources);
  lease l;
  l.held = spec.resources;
  l.token = token;
  st.leases.emplace(lease_id, std::move(l));
  worker_process w;
  w.job = spec.job;
  w.pid = pid;
  w.lease = lease_id;
  w.actor = spec;
  st.workers.emplace(token, std::move(w));
  schedule_reap(self);
}

void start_actor(self_ptr self, const wire::actor_spec& spec) {
  auto& st = self->state;
  if (st.processes()) {
    start_actor_process(self, spec);
    return;
  }
  auto lease_id = st.next_lease++;
  st.acquire(spec.resources);
  auto host = st.factory.spawn_actor_host(self, spec, lease_id);
  self->link_to(host);
  lease l;
  l.held = spec.resources;
  l.host = host.address();
  st.leases.emplace(lease_id, std::move(l));
  self->send(host, wire::create_atom::value);
}

void dispatch(self_ptr self);

// Sends the owner behind `req` on to another node, which it asks for a
// lease itself.
void spill(self_ptr self, lease_request& req, const wire::unique_id& node) {
  CARAWAY_LOG(debug, raylet) << "spillback" << log::kv("node",
                                                       wire::to_string(node));
  req.promise.deliver(wire::executor_actor{}, uint64_t{0}, node, std::string{});
}

// Reports resource use to the gcs, at most every 50 ms.
// The metric series a node keeps of one process.
constexpr size_t max_metric_series = 10000;

// How often the store's use is looked at: a change is reported.
constexpr auto store_check_period = std::chrono::milliseconds(500);

void schedule_report(self_ptr self) {
  auto& st = self->state;
  if (!st.gcs || st.report_scheduled)
    return;
  st.report_scheduled = true;
  self->delayed_send(self, std::chrono::milliseconds(50),
                     wire::report_atom::value);
}

// Sends owners waiting here on to nodes the view shows with room, least
// urgent first, while this node has none; and owners asking for what this
// node can never run to a node that can.
void spill_waiting(self_ptr self) {
  auto& st = self->state;
  if (st.view.empty())
    return;
  for (auto q = st.queues.begin(); q != st.queues.end();) {
    auto& [shape, requests] = *q;
    auto i = requests.end();
    while (!st.fits(shape) && i != requests.begin()) {
      auto cur = std::prev(i);
      if (cur->second.spilled) {
        i = cur;
        continue;
      }
      auto where = st.place(shape, cur->second, false);
      if (where.kind != raylet_state::placement::there)
        break;
      st.sent_to(where.node, shape);
      spill(self, cur->second, where.node);
      requests.erase(cur);
      --st.queued;
    }
    q = requests.empty() ? st.queues.erase(q) : std::next(q);
  }
  for (auto i = st.infeasible.begin(); i != st.infeasible.end();) {
    auto where = st.place(i->first, i->second, true);
    if (where.kind != raylet_state::placement::there) {
      ++i;
      continue;
    }
    st.sent_to(where.node, i->first);
    spill(self, i->second, where.node);
    i = st.infeasible.erase(i);
  }
}

std::string removed_why(const wire::unique_id& group) {
  return "placement group " + wire::to_string(group) + " was removed";
}

// The group was removed: its bundles here go back, the tasks waiting for
// it fail, saying so (the gcs ends its actors).
void group_gone(self_ptr self, const wire::unique_id& group) {
  auto& st = self->state;
  size_t actors = 0;
  auto dropped = st.remove_group(group, actors);
  for (auto& req : dropped)
    req.promise.deliver(
      caf::make_error(wire::errc::unschedulable, removed_why(group)));
  if (!dropped.empty() || actors > 0)
    CARAWAY_LOG(info, raylet)
      << "a placement group was removed; its waiting work ends"
      << log::kv("group", wire::to_string(group))
      << log::kv("requests", dropped.size()) << log::kv("actors", actors);
  schedule_report(self);
  dispatch(self);
}

// A request for the group found no node: if that is because the group is
// gone (removed before this node heard of it), its requests fail.
void check_group(self_ptr self, const wire::unique_id& group) {
  auto& st = self->state;
  if (!st.gcs || !st.groups_asked.insert(group).second)
    return;
  self
    ->request(st.gcs, std::chrono::seconds(5), wire::group_atom::value,
              wire::lookup_atom::value, group)
    .then(
      [=](const wire::placement_group_info& info) {
        self->state.groups_asked.erase(group);
        if (info.id.nil()
            || info.state == wire::placement_group_state::removed)
          group_gone(self, group);
      },
      [=](caf::error&) {
        // Asked again by the next request that finds no node.
        self->state.groups_asked.erase(group);
      });
}

// Looks for ended worker processes every so often while there are any.
constexpr auto reap_period = std::chrono::milliseconds(100);

void schedule_reap(self_ptr self) {
  auto& st = self->state;
  if (st.reap_scheduled || st.workers.empty())
    return;
  st.reap_scheduled = true;
  self->delayed_send(self, reap_period, wire::idle_atom::value);
}

// Fails the waiting requests of `job`: its worker processes do not start.
void fail_job_requests(self_ptr self, uint64_t job, const std::string& why) {
  auto dropped = self->state.drop_requests_of_job(job);
  for (auto& req : dropped)
    req.promise.deliver(caf::make_error(wire::errc::unschedulable, why));
}

// Starts the worker processes that waiting requests need.
void start_workers(self_ptr self) {
  auto& st = self->state;
  for (auto& [job, n] : st.workers_wanted()) {
    for (uint32_t i = 0; i < n; ++i) {
      uint64_t token = 0;
      std::string why;
      auto pid = launch_worker(st, job, token, why);
      if (pid <= 0) {
        CARAWAY_LOG(error, raylet)
          << "cannot start a worker process" << log::kv("job", job)
          << log::kv("error", why);
        fail_job_requests(self, job,
                          "node " + wire::to_string(st.info.id)
                            + " cannot start a worker process for job "
                            + std::to_string(job) + ": " + why);
        break;
      }
      CARAWAY_LOG(debug, raylet) << "started a worker process"
                                 << log::kv("job", job) << log::kv("pid", pid);
      worker_process w;
      w.job = job;
      w.pid = pid;
      st.workers.emplace(token, std::move(w));
      ++st.starting[job];
    }
  }
  schedule_reap(self);
}

// The worker process `token` ended (`why`: its exit code or signal): the
// owner holding its lease hears, and its resources go back.
void worker_ended(self_ptr self, uint64_t token, const std::string& why) {
  auto& st = self->state;
  auto w = st.workers.find(token);
  if (w == st.workers.end())
    return;
  auto job = w->second.job;
  bool registered = static_cast<bool>(w->second.executor);
  auto what = "the worker process (pid " + std::to_string(w->second.pid)
              + ") on node " + wire::to_string(st.info.id) + " " + why;
  if (w->second.for_actor()) {
    // The gcs restarts the actor or lets it die; a host it already heard
    // of is not watched there for this.
    auto& actor = w->second.actor;
    CARAWAY_LOG(info, raylet)
      << "an actor's worker process ended" << log::kv("class", actor.class_name)
      << log::kv("why", why);
    self->send(st.gcs, wire::dead_atom::value, actor.id, actor.num_restarts,
               wire::error_info{wire::error_kind::actor_died, "",
                                "the actor's worker process (pid "
                                  + std::to_string(w->second.pid) + ") on node "
                                  + wire::to_string(st.info.id) + " " + why});
    st.worker_gone(token);
    dispatch(self);
    return;
  }
  auto [owner, lease_id] = st.worker_gone(token);
  if (owner) {
    CARAWAY_LOG(warning, raylet) << "a worker process died running tasks"
                                 << log::kv("job", job) << log::kv("why", why);
    self->send(owner, wire::dead_atom::value, lease_id, what);
  } else {
    CARAWAY_LOG(info, raylet)
      << "a worker process ended" << log::kv("job", job) << log::kv("why", why);
  }
  if (!registered && ++st.start_failures[job] >= st.max_start_failures) {
    st.start_failures.erase(job);
    fail_job_requests(self, job,
                      "worker processes for job " + std::to_string(job)
                        + " do not start: " + what);
  }
  dispatch(self);
}

// Asks worker processes idle too long to end; one that holds what others
// need declines and stays.
void end_idle_workers(self_ptr self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  for (auto token : st.take_expired_workers(now)) {
    auto& w = st.workers.at(token);
    self->request(w.executor, std::chrono::seconds(5), wire::stop_atom::value)
      .then(
        [=](bool ends) {
          auto& st = self->state;
          if (!ends) {
            st.idle_again(token, std::chrono::steady_clock::now());
            return;
          }
          // It exits by itself and is reaped like any other.
          if (auto i = st.workers.find(token); i != st.workers.end())
            i->second.ending = true;
        },
        [=](caf::error&) {
          // No answer: it is frozen or gone; either way it is not used.
          auto& st = self->state;
          if (auto i = st.workers.find(token);
              i != st.workers.end() && st.factory.kill_worker)
            st.factory.kill_worker(i->second.pid);
        });
  }
}

// Grants the requests that have a worker process of their job and room.
void dispatch_to_processes(self_ptr self) {
  auto& st = self->state;
  for (auto q = st.queues.begin(); q != st.queues.end();) {
    auto& [shape, requests] = *q;
    for (auto i = requests.begin(); i != requests.end() && st.fits(shape);) {
      auto token = st.take_idle_worker(i->second.job);
      if (token == 0) {
        ++i;
        continue;
      }
      auto& w = st.workers.at(token);
      auto lease_id = st.next_lease++;
      st.acquire(shape);
      auto req = std::move(i->second);
      i = requests.erase(i);
      --st.queued;
      lease l;
      l.held = shape;
      l.executor = w.executor;
      l.worker = req.worker;
      l.token = token;
      l.owner = req.owner;
      w.lease = lease_id;
      st.leases.emplace(lease_id, std::move(l));
      req.promise.deliver(w.executor, lease_id, st.info.id, w.address);
    }
    q = requests.empty() ? st.queues.erase(q) : std::next(q);
  }
  start_workers(self);
}

// Starts whatever fits: actors waiting for resources first, then leases.
void dispatch(self_ptr self) {
  auto& st = self->state;
  for (auto i = st.pending_actors.begin(); i != st.pending_actors.end();) {
    if (st.fits(i->resources)) {
      start_actor(self, *i);
      i = st.pending_actors.erase(i);
    } else {
      ++i;
    }
  }
  if (st.processes()) {
    dispatch_to_processes(self);
    spill_waiting(self);
    schedule_report(self);
    return;
  }
  for (auto q = st.queues.begin(); q != st.queues.end();) {
    auto& [shape, requests] = *q;
    while (!requests.empty() && st.fits(shape)) {
      wire::executor_actor exec;
      if (!st.idle.empty()) {
        exec = std::move(st.idle.back());
        st.idle.pop_back();
      } else if (st.executors < st.max_executors) {
        exec = st.factory.spawn_executor(self);
        self->link_to(exec);
        ++st.executors;
      } else {
        CARAWAY_LOG(warning, raylet)
          << "all executors are busy or blocked; tasks wait"
          << log::kv("max_workers", st.max_executors);
        return;
      }
      auto lease_id = st.next_lease++;
      st.acquire(shape);
      auto first = requests.begin();
      auto req = std::move(first->second);
      requests.erase(first);
      --st.queued;
      lease l;
      l.held = shape;
      l.executor = exec;
      l.worker = req.worker;
      st.leases.emplace(lease_id, std::move(l));
      CARAWAY_LOG(debug, raylet)
        << "granted a lease" << log::kv("lease", lease_id)
        << log::kv("executor", exec ? exec->id() : 0)
        << log::kv("owner", req.worker) << log::kv("depth", req.depth);
      req.promise.deliver(std::move(exec), lease_id, st.info.id, std::string{});
    }
    if (requests.empty())
      q = st.queues.erase(q);
    else
      ++q;
  }
  spill_waiting(self);
  schedule_report(self);
}

// The connection to a worker process broke: a process that cannot be
// reached any more is useless (frozen, or its link is gone), so it is
// killed; its end is reaped and reported like any other.
void lost_worker(self_ptr self, const caf::actor_addr& source) {
  auto& st = self->state;
  for (auto& [token, w] : st.workers)
    if (w.executor && w.executor.address() == source) {
      // One ending on request closes its connections as it exits.
      if (!w.ending && st.factory.kill_worker)
        st.factory.kill_worker(w.pid);
      schedule_reap(self);
      return;
    }
}

} // namespace

raylet_impl::behavior_type
raylet(self_ptr self, wire::node_info info, uint32_t max_executors,
       worker_factory factory, wire::gcs_actor gcs, double spread_threshold) {
  auto& st = self->state;
  // A random high word keeps this raylet's lease numbers apart from other
  // raylets' in an owner holding leases of several nodes.
  st.next_lease = (static_cast<uint64_t>(std::random_device{}()) << 32) | 1;
  st.gcs = std::move(gcs);
  st.info = std::move(info);
  st.info.available = st.info.total;
  st.max_executors = max_executors;
  st.spread_threshold = spread_threshold;
  st.factory = std::move(factory);
  // Actor hosts are linked: one that stops returns its lease. Any other
  // exit message stops the raylet, and with it every executor and host.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& st = self->state;
    for (auto i = st.leases.begin(); i != st.leases.end(); ++i) {
      if (i->second.host && i->second.host == msg.source) {
        st.finish(i->first);
        dispatch(self);
        return;
      }
    }
    self->quit(msg.reason);
  });
  // Without the gcs this node is cut off: its tasks' owners run them
  // elsewhere once the node is declared dead, so it stops instead of
  // serving stale work (and a node the gcs fenced off ends here too). A
  // worker's gcs is its link to the head, which ends only once the head
  // stopped, stayed away too long or would not take the node back.
  // Worker processes' executors are monitored too.
  if (st.gcs)
    self->monitor(st.gcs);
  if (st.gcs && st.factory.store_used)
    self->delayed_send(self, store_check_period, wire::stats_atom::value);
  self->set_down_handler([=](caf::down_msg& msg) {
    if (!self->state.gcs || msg.source != self->state.gcs.address()) {
      self->state.process_metrics.erase(msg.source);
      lost_worker(self, msg.source);
      return;
    }
    if (msg.reason == caf::exit_reason::user_shutdown) {
      CARAWAY_LOG(info, raylet) << "the head stopped; this node stops";
      self->quit(caf::exit_reason::user_shutdown);
      return;
    }
    CARAWAY_LOG(error, raylet)
      << "lost the head; this node stops"
      << log::kv("reason", self->system().render(msg.reason));
    self->quit(msg.reason);
  });
  return {
    [=](wire::lease_atom, const wire::resource_set& shape, uint32_t depth,
        uint64_t worker, bool spilled, uint8_t strategy,
        const wire::unique_id& affinity_node, bool affinity_soft,
        uint64_t job) -> caf::result<wire::executor_actor, uint64_t,
                                     wire::unique_id, std::string> {
      auto& st = self->state;
      if (strategy > static_cast<uint8_t>(wire::strategy::node_affinity))
        return caf::make_error(wire::errc::invalid_request,
                               "unknown scheduling strategy "
                                 + std::to_string(strategy));
      lease_request req;
      req.worker = worker;
      req.depth = depth;
      req.spilled = spilled;
      req.strategy = static_cast<wire::strategy>(strategy);
      req.affinity_node = affinity_node;
      req.affinity_soft = affinity_soft;
      req.job = job;
      req.owner = caf::actor_cast<wire::owner_actor>(self->current_sender());
      auto group = wire::group_of(shape);
      if (!group.nil() && st.group_removed(group))
        return caf::make_error(wire::errc::unschedulable,
                               removed_why(group));
      auto where = st.place(shape, req, spilled);
      // Before the promise: once made, it answers instead of the handler.
      if (where.kind == raylet_state::placement::refused)
        return caf::make_error(wire::errc::unschedulable, where.why);
      req.promise = self->make_response_promise<wire::executor_actor, uint64_t,
                                                wire::unique_id, std::string>();
      auto promise = req.promise;
      switch (where.kind) {
        case raylet_state::placement::there:
          st.sent_to(where.node, shape);
          spill(self, req, where.node);
          return promise;
        case raylet_state::placement::here:
          // A node affinity met here stays here.
          if (req.strategy == wire::strategy::node_affinity)
            req.spilled = true;
          break;
        case raylet_state::placement::refused: // answered above
        case raylet_state::placement::nowhere:
          break;
      }
      // A placement group's task waits for its bundles, as it should,
      // unless the group is gone.
      if (!st.enqueue(shape, std::move(req))) {
        if (!group.nil())
          check_group(self, group);
        else if (st.warned_infeasible.insert(shape).second)
          CARAWAY_LOG(warning, raylet)
            << "a task needs " << describe(shape)
            << " but no node has it; it stays pending until a node that "
               "has it joins";
      }
      dispatch(self);
      return promise;
    },
    [=](wire::cancel_atom, const wire::task_id& id, bool recursive) {
      auto& st = self->state;
      if (st.factory.cancel)
        st.factory.cancel(id, recursive);
      // Which worker process runs it is the owner's to know: each is told,
      // and the one that has it flags it (cancels are rare).
      for (auto& [token, w] : st.workers)
        if (w.owner)
          self->send(w.owner, wire::cancel_atom::value, id, recursive);
    },
    [=](wire::view_atom, std::vector<wire::node_info>& rows) {
      self->state.merge_view(std::move(rows));
      spill_waiting(self);
    },
    [=](wire::report_atom) {
      auto& st = self->state;
      st.report_scheduled = false;
      auto info = st.info;
      info.pending_tasks = st.pending();
      if (st.factory.store_used)
        info.object_store_used = st.factory.store_used();
      st.reported_store_used = info.object_store_used;
      self->send(st.gcs, wire::report_atom::value, std::move(info));
    },
    [=](wire::stats_atom) {
      auto& st = self->state;
      if (st.factory.store_used() != st.reported_store_used)
        schedule_report(self);
      self->delayed_send(self, store_check_period, wire::stats_atom::value);
    },
    [=](wire::done_atom, uint64_t lease_id) {
      CARAWAY_LOG(debug, raylet)
        << "lease given back" << log::kv("lease", lease_id);
      self->state.finish(lease_id);
      dispatch(self);
    },
    [=](wire::blocked_atom, uint64_t lease_id) {
      CARAWAY_LOG(debug, raylet)
        << "lease blocked in get; its resources lent out"
        << log::kv("lease", lease_id);
      if (self->state.block(lease_id))
        dispatch(self);
    },
    [=](wire::unblocked_atom, uint64_t lease_id) {
      CARAWAY_LOG(debug, raylet)
        << "lease unblocked" << log::kv("lease", lease_id);
      self->state.unblock(lease_id);
      schedule_report(self);
    },
    [=](wire::create_atom, wire::actor_spec& spec) {
      auto& st = self->state;
      if (!st.feasible(spec.resources)) {
        CARAWAY_LOG(warning, raylet)
          << "actor " << spec.class_name << " needs "
          << describe(spec.resources) << " but this node has "
          << describe(st.info.total) << "; it stays pending";
      }
      st.pending_actors.emplace_back(std::move(spec));
      dispatch(self);
    },
    [=](wire::group_atom, wire::prepare_atom, const wire::unique_id& group,
        uint32_t index, const wire::resource_set& resources) {
      auto ok = self->state.prepare_bundle(group, index, resources);
      if (ok)
        schedule_report(self);
      return ok;
    },
    [=](wire::group_atom, wire::commit_atom, const wire::unique_id& group,
        uint32_t index) {
      auto& st = self->state;
      if (!st.commit_bundle(group, index))
        return false;
      CARAWAY_LOG(debug, raylet)
        << "bundle reserved" << log::kv("group", wire::to_string(group))
        << log::kv("index", index);
      // Tasks of the group may be waiting here for it.
      st.requeue_feasible();
      dispatch(self);
      return true;
    },
    [=](wire::group_atom, wire::free_atom, const wire::unique_id& group,
        uint32_t index) {
      if (self->state.free_bundle(group, index)) {
        CARAWAY_LOG(debug, raylet)
          << "bundle given back" << log::kv("group", wire::to_string(group))
          << log::kv("index", index);
        dispatch(self);
      }
    },
    [=](wire::group_atom, wire::kill_atom, const wire::unique_id& group) {
      group_gone(self, group);
    },
    [=](wire::group_atom, wire::rejoin_atom,
        const std::vector<wire::unique_id>& groups,
        const std::vector<uint32_t>& indices) {
      auto& st = self->state;
      std::set<std::pair<wire::unique_id, uint32_t>> keep;
      for (size_t i = 0; i < groups.size() && i < indices.size(); ++i)
        keep.emplace(groups[i], indices[i]);
      std::vector<std::pair<wire::unique_id, uint32_t>> stale;
      for (auto& [key, b] : st.bundles)
        if (keep.count(key) == 0)
          stale.push_back(key);
      for (auto& [group, index] : stale)
        st.free_bundle(group, index);
      if (!stale.empty())
        CARAWAY_LOG(info, raylet)
          << "gave back bundles the restarted head does not place here"
          << log::kv("bundles", stale.size());
      // Groups removed while the head was away fail their waiting tasks.
      for (auto& group : st.waiting_groups())
        check_group(self, group);
      schedule_report(self);
      dispatch(self);
    },
    [=](wire::status_atom) {
      auto& st = self->state;
      auto result = st.info;
      result.pending_tasks = st.pending();
      if (st.factory.store_used)
        result.object_store_used = st.factory.store_used();
      return result;
    },
    [=](wire::metrics_atom, int32_t pid,
        std::vector<wire::metric_sample>& samples) {
      auto& st = self->state;
      auto sender = self->current_sender();
      if (!sender)
        return;
      // A process sends all its series each time: a bound keeps a runaway
      // one (a tag per request id, say) from filling the node's memory.
      if (samples.size() > max_metric_series) {
        CARAWAY_LOG(warning, raylet)
          << "a process records more metric series than a node keeps"
          << log::kv("pid", pid) << log::kv("series", samples.size())
          << log::kv("kept", max_metric_series);
        samples.resize(max_metric_series);
      }
      auto addr = caf::actor_cast<caf::actor_addr>(sender);
      auto [i, fresh] = st.process_metrics.try_emplace(addr);
      if (fresh)
        self->monitor(sender);
      i->second = {pid, std::move(samples)};
    },
    [=](wire::metrics_atom) {
      std::vector<wire::metric_sample> result;
      for (auto& [addr, entry] : self->state.process_metrics)
        for (auto x : entry.second) {
          x.labels.emplace_back("pid", std::to_string(entry.first));
          result.push_back(std::move(x));
        }
      return result;
    },
    [=](wire::free_atom, uint64_t worker) {
      // An owner is gone: its waiting work, its leases and its objects here
      // go too.
      auto& st = self->state;
      size_t actors = 0;
      size_t leases = 0;
      auto requests = st.drop_work_of(worker, actors, leases);
      for (auto& req : requests)
        req.promise.deliver(caf::make_error(wire::errc::owner_gone,
                                            "the owner is gone"));
      auto objects = st.factory.free_owned ? st.factory.free_owned(worker) : 0;
      if (requests.size() + actors + leases + objects > 0) {
        CARAWAY_LOG(info, raylet)
          << "dropped the work and objects of an owner that is gone"
          << log::kv("requests", requests.size()) << log::kv("actors", actors)
          << log::kv("leases", leases) << log::kv("objects", objects);
        dispatch(self);
      }
    },
    [=](wire::load_atom, uint64_t job, const std::vector<std::string>& paths) {
      // Loads before this raylet takes its next message: the gcs announces
      // a job's libraries before anyone can send the job's tasks here. The
      // job's worker processes load them as they start.
      auto& st = self->state;
      if (st.processes()) {
        // User code stays out of this process: the job's workers load it.
        std::vector<std::string> failed;
        st.job_libraries[job] = st.factory.keep_libraries
                                  ? st.factory.keep_libraries(job, paths,
                                                              failed)
                                  : paths;
        return failed;
      }
      st.job_libraries[job] = paths;
      if (st.factory.load_libraries)
        return st.factory.load_libraries(paths);
      std::vector<std::string> failed;
      for (auto& path : paths)
        failed.emplace_back("node " + wire::to_string(st.info.id)
                            + " loads no libraries: " + path);
      return failed;
    },
    [=](wire::free_atom, wire::job_atom, uint64_t job) {
      auto& st = self->state;
      // The libraries stay known: a detached actor of the job may restart.
      st.start_failures.erase(job);
      size_t ended = 0;
      // Each ends by itself, reporting its last task events on the way, or
      // is killed after the grace period (see `idle_atom`).
      auto kill_at = std::chrono::steady_clock::now()
                     + st.factory.worker_exit_grace;
      for (auto& [token, w] : st.workers)
        if (w.job == job && !(w.for_actor() && w.actor.detached)
            && st.factory.kill_worker && !w.kill_at) {
          if (w.executor) {
            self->send(w.executor, wire::stop_atom::value,
                       wire::job_atom::value);
            w.ending = true;
            w.kill_at = kill_at;
          } else {
            st.factory.kill_worker(w.pid);
          }
          ++ended;
        }
      schedule_reap(self);
      if (ended > 0)
        CARAWAY_LOG(info, raylet)
          << "the job ended; ending its worker processes" << log::kv("job", job)
          << log::kv("workers", ended);
    },
    [=](wire::get_atom) { return self->state.factory.store; },
    [=](wire::log_atom) {
      auto& list = self->state.factory.list_workers;
      return list ? list() : std::vector<wire::worker_info>{};
    },
    [=](wire::log_atom, int32_t pid,
        uint32_t lines) -> caf::result<std::string, std::string> {
      auto& st = self->state;
      auto node = "node " + wire::to_string(st.info.id);
      if (!st.factory.worker_output)
        return caf::make_error(wire::errc::not_found,
                               node
                                 + " runs tasks on threads of its daemon: "
                                   "what they print is in its output");
      std::string out;
      std::string err;
      if (!st.factory.worker_output(pid, lines, out, err))
        return caf::make_error(wire::errc::not_found, "no worker process "
                                                        + std::to_string(pid)
                                                        + " on " + node);
      return {std::move(out), std::move(err)};
    },
    [=](wire::log_atom, const std::string& component,
        uint32_t lines) -> caf::result<std::string> {
      auto& st = self->state;
      std::string text;
      std::string why = "node " + wire::to_string(st.info.id)
                        + " keeps no log files";
      if (!st.factory.component_log
          || !st.factory.component_log(component, lines, text, why))
        return caf::make_error(wire::errc::not_found, why);
      return text;
    },
    [=](wire::register_atom, uint64_t token, wire::executor_actor& executor,
        int32_t pid, std::string& address) {
      auto& st = self->state;
      auto w = st.workers.find(token);
      if (w == st.workers.end() || w->second.pid != pid || w->second.executor
          || !executor) {
        CARAWAY_LOG(warning, raylet)
          << "a process registered as a worker this node did not start"
          << log::kv("pid", pid);
        return;
      }
      w->second.executor = executor;
      w->second.address = std::move(address);
      w->second.owner
        = caf::actor_cast<wire::owner_actor>(self->current_sender());
      self->monitor(executor);
      if (w->second.for_actor()) {
        self->send(executor, wire::create_atom::value, w->second.actor,
                   w->second.lease);
        return;
      }
      auto job = w->second.job;
      if (auto i = st.starting.find(job);
          i != st.starting.end() && --i->second == 0)
        st.starting.erase(i);
      st.start_failures.erase(job);
      st.idle_again(token, std::chrono::steady_clock::now());
      CARAWAY_LOG(debug, raylet)
        << "worker process ready" << log::kv("job", job) << log::kv("pid", pid);
      dispatch(self);
    },
    [=](wire::idle_atom) {
      auto& st = self->state;
      st.reap_scheduled = false;
      std::vector<std::pair<uint64_t, std::string>> ended;
      for (auto& [token, w] : st.workers)
        if (auto why = st.factory.reap_worker(w.pid); !why.empty())
          ended.emplace_back(token, std::move(why));
      for (auto& [token, why] : ended)
        worker_ended(self, token, why);
      auto now = std::chrono::steady_clock::now();
      for (auto& [token, w] : st.workers)
        if (w.kill_at && *w.kill_at <= now && st.factory.kill_worker) {
          CARAWAY_LOG(warning, raylet)
            << "a worker process of an ended job did not exit in time; "
               "killing it"
            << log::kv("job", w.job) << log::kv("pid", w.pid);
          st.factory.kill_worker(w.pid);
          w.kill_at.reset();
        }
      end_idle_workers(self);
      schedule_reap(self);
    },
    [=](wire::stop_atom) {
      CARAWAY_LOG(info, raylet) << "stopping on request";
      self->quit(caf::exit_reason::user_shutdown);
    },
  };
}

} // namespace caraway::node
