#include "owner/service.hpp"

#include <cstdio>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "caraway/log.hpp"
#include "caraway/wire/address.hpp"
#include "caraway/wire/errc.hpp"
#include "dial.hpp"
#include "owner/core_worker.hpp"

namespace caraway::owner {

namespace {

using self_ptr = service_actor::stateful_pointer<service_state>;

// Opens a direct connection to the process listening at `address` (once);
// `connected` gets the actor published there and its interface. CAF routes
// messages to a process it only learned of through a third one via that
// third one, unless connected directly.
template <class F>
void dial_address(self_ptr self, core_worker* core, const std::string& address,
                  F connected) {
  auto& st = self->state;
  if (address.empty() || address == st.own_address
      || !self->system().has_middleman() || !st.dialed.insert(address).second)
    return;
  std::string host;
  uint16_t port = 0;
  std::string why;
  if (!wire::split_address(address, host, port, why))
    return;
  auto timeout = std::chrono::milliseconds(core->cfg().connect_timeout_ms);
  self
    ->request(core::dialer(self->system()), timeout, caf::connect_atom::value,
              std::move(host), port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>& ifs) {
        CARAWAY_LOG(debug, owner) << "connected" << log::kv("to", address);
        connected(std::move(ptr), ifs);
      },
      [=](caf::error& err) {
        CARAWAY_LOG(warning, owner)
          << "no direct connection; messages go through a third process"
          << log::kv("to", address)
          << log::kv("error", self->system().render(err));
        self->state.dialed.erase(address);
      });
}

// Whether this process connects to worker processes directly: a driver
// does; a worker process leaves its messages to other workers on the path
// through its node (which it dies with anyway). Connections opened between
// worker processes that already reach each other through their nodes
// sometimes never finished CAF's handshake, and what was sent meanwhile was
// lost: nested tasks hung in 4 of 11 runs of fib(20) on three nodes (none
// in 10 without), and a task calling an actor in another worker process
// once waited forever.
bool dials_workers(core_worker* core) {
  return core->node_id().empty();
}

// Connects to a node directly; a worker node publishes its raylet (the head
// its gcs). Of two nodes, only the one with the smaller id dials the other,
// which gets the direct route when the connection arrives: two worker nodes
// that learned of each other at once and dialed each other at once were
// sometimes left by CAF 0.17 with routes on which every message between
// them was lost (lease requests spilled from one to the other went
// unanswered, and nested tasks waited forever, in 2 of 12 clusters of
// three nodes).
void dial(self_ptr self, core_worker* core, const wire::node_info& info) {
  if (!info.alive)
    return;
  if (!self->state.own_address.empty() && info.id < core->raylet_node())
    return;
  auto node = info.id;
  dial_address(
    self, core, info.address,
    [=](caf::strong_actor_ptr ptr, const std::set<std::string>& ifs) {
      if (ptr && ifs == self->system().message_types<wire::raylet_actor>())
        self->state.raylets[node]
          = caf::actor_cast<wire::raylet_actor>(std::move(ptr));
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

// The raylet of `node`: the one this process submits to, or one the gcs
// published.
wire::raylet_actor raylet_of(self_ptr self, core_worker* core,
                             const wire::unique_id& node) {
  if (node == core->raylet_node())
    return core->raylet();
  auto i = self->state.raylets.find(node);
  return i != self->state.raylets.end() ? i->second : wire::raylet_actor{};
}

void retry_later(self_ptr self) {
  auto& st = self->state;
  if (st.retry_scheduled)
    return;
  st.retry_scheduled = true;
  self->delayed_send(self, std::chrono::milliseconds(100),
                     wire::retry_atom::value);
}

void expire_later(self_ptr self, task_submitter::clock::time_point due) {
  auto& st = self->state;
  if (st.expire_scheduled || due == task_submitter::clock::time_point::max())
    return;
  st.expire_scheduled = true;
  auto delay = std::chrono::duration_cast<std::chrono::microseconds>(
    due - task_submitter::clock::now());
  self->delayed_send(self, std::max(delay, std::chrono::microseconds(0)),
                     wire::idle_atom::value);
}

void run(self_ptr self, core_worker* core, task_submitter::actions& acts);

// The ids of `tasks`, for debug logs.
std::string ids_of(const std::vector<wire::task_spec>& tasks) {
  std::string result;
  for (auto& spec : tasks) {
    if (!result.empty())
      result += ',';
    result += wire::to_string(spec.id);
  }
  return result;
}

// Lets `f` tell the submitter something, then sends what it decided.
template <class F>
void submit(self_ptr self, core_worker* core, F f) {
  task_submitter::actions out;
  f(self->state.submitter, out);
  run(self, core, out);
}

// Hands the tasks that became ready to the submitter. Whatever looks a task
// up in the submitter does this first: the ring for a task may still be on
// its way behind the message that asks.
void take_ready(self_ptr self, core_worker* core) {
  auto tasks = core->take_ready();
  if (tasks.empty())
    return;
  CARAWAY_LOG(debug, owner) << "tasks ready" << log::kv("tasks", ids_of(tasks));
  submit(self, core, [&](task_submitter& sub, auto& out) {
    for (auto& spec : tasks)
      sub.submit(std::move(spec), out);
  });
}

// Sends what the submitter decided: lease requests, batches for leased
// executors, leases given back.
void run(self_ptr self, core_worker* core, task_submitter::actions& acts) {
  auto& st = self->state;
  for (auto& req : acts.requests) {
    auto raylet = raylet_of(self, core, req.node);
    if (!raylet) {
      // A node the gcs has not published here yet: ask again shortly.
      st.submitter.failed(req.token);
      retry_later(self);
      continue;
    }
    auto token = req.token;
    CARAWAY_LOG(debug, owner)
      << "asking for a lease" << log::kv("token", token)
      << log::kv("node", wire::to_string(req.node))
      << log::kv("depth", req.depth) << log::kv("spilled", req.spilled);
    // A hybrid request names the node holding the task's arguments, which
    // keeps it while it has room.
    auto& node = req.shape.strategy == wire::strategy::hybrid
                   ? req.shape.locality
                   : req.shape.node;
    // No timeout: a lease may wait long for resources. A node that dies
    // takes its requests with it (`node_died`); an answer after that is
    // given back.
    self
      ->request(raylet, caf::infinite, wire::lease_atom::value,
                req.shape.resources, req.depth, core->worker_id(), req.spilled,
                static_cast<uint8_t>(req.shape.strategy), node, req.shape.soft,
                core->job())
      .then(
        [=](wire::executor_actor& exec, uint64_t lease, wire::unique_id& node,
            std::string& address) {
          // A worker process: a driver's batches and results go direct from
          // now on (see dials_workers).
          if (dials_workers(core))
            dial_address(self, core, address,
                         [](caf::strong_actor_ptr,
                            const std::set<std::string>&) {});
          CARAWAY_LOG(debug, owner)
            << (exec ? "lease granted" : "lease request sent on")
            << log::kv("token", token) << log::kv("lease", lease)
            << log::kv("node", wire::to_string(node))
            << log::kv("waiting", self->state.submitter.waiting(token));
          submit(self, core, [&](task_submitter& sub, auto& out) {
            if (exec)
              sub.granted(token, std::move(exec), lease, node, out);
            else
              sub.spilled(token, node, out);
          });
        },
        [=](caf::error& err) {
          if (wire::code_of(err) == wire::errc::unschedulable) {
            // Nowhere to run them, ever (a hard node affinity to a node
            // that cannot): their gets fail, saying why.
            auto tasks = self->state.submitter.refused(token);
            auto& ctx = err.context();
            auto why = ctx.match_elements<std::string>()
                         ? ctx.get_as<std::string>(0)
                         : self->system().render(err);
            core->fail_unsent(tasks,
                              {wire::error_kind::unschedulable, "", why});
            return;
          }
          CARAWAY_LOG(debug, owner)
            << "a lease request failed" << log::kv("token", token)
            << log::kv("error", self->system().render(err));
          self->state.submitter.failed(token);
          retry_later(self);
        });
  }
  for (auto& b : acts.batches) {
    CARAWAY_LOG(debug, owner) << "sending a batch" << log::kv("lease", b.lease)
                              << log::kv("node", wire::to_string(b.node))
                              << log::kv("tasks", ids_of(b.tasks));
    core->on_sent(b.tasks, b.node, b.lease);
    self->send(b.executor, wire::execute_atom::value, std::move(b.tasks),
               b.lease);
  }
  for (auto& ret : acts.returns) {
    CARAWAY_LOG(debug, owner)
      << "giving a lease back" << log::kv("lease", ret.lease);
    if (auto raylet = raylet_of(self, core, ret.node))
      self->send(raylet, wire::done_atom::value, ret.lease);
  }
  if (acts.recheck && !st.recheck_scheduled) {
    st.recheck_scheduled = true;
    self->delayed_send(self, st.submitter.busy_wait(), wire::retry_atom::value);
  }
  acts = {};
}

// The executor of `lease` ran its batch: it takes the next one, or idles.
void lease_free(self_ptr self, core_worker* core, uint64_t lease) {
  auto now = task_submitter::clock::now();
  submit(self, core, [&](task_submitter& sub, task_submitter::actions& out) {
    sub.done(lease, now, out);
  });
  // An idle lease goes back once it lingered, unless a task takes it.
  expire_later(self, now + self->state.submitter.linger());
}

} // namespace

service_actor::behavior_type service(self_ptr self, core_worker* core,
                                     std::string own_address) {
  self->state.own_address = std::move(own_address);
  task_submitter::options submit_opts;
  submit_opts.linger = std::chrono::milliseconds(core->cfg().lease_linger_ms);
  submit_opts.max_pending_requests
    = std::max<uint32_t>(1, core->cfg().max_lease_requests);
  self->state.submitter = task_submitter{submit_opts};
  // Task events go to the gcs in one message per period, not one each.
  constexpr auto task_events_period = std::chrono::milliseconds(500);
  if (core->cfg().task_events)
    self->delayed_send(self, task_events_period, wire::events_atom::value);
  constexpr auto metrics_period = std::chrono::milliseconds(500);
  if (core->ships_metrics())
    self->delayed_send(self, metrics_period, wire::metrics_atom::value);
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
      submit(self, core,
             [&](task_submitter& sub, auto& out) { sub.node_died(dead, out); });
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
      auto lease = result.lease_done;
      CARAWAY_LOG(debug, owner)
        << "result" << log::kv("task", wire::to_string(result.id))
        << log::kv("lease_done", lease);
      core->on_result(result);
      if (lease != 0)
        lease_free(self, core, lease);
    },
    [=](wire::update_atom, const wire::actor_info& info) {
      // An actor in a worker process: a driver's calls go there directly
      // (see dials_workers).
      if (info.state == wire::actor_state::alive && dials_workers(core))
        dial_address(self, core, info.address,
                     [](caf::strong_actor_ptr, const std::set<std::string>&) {
                     });
      core->on_actor_update(info);
    },
    [=](wire::update_atom, const wire::node_info& info,
        wire::raylet_actor& raylet) {
      if (info.alive) {
        if (raylet)
          self->state.raylets[info.id] = std::move(raylet);
        dial(self, core, info);
      } else {
        self->state.raylets.erase(info.id);
        submit(self, core, [&](task_submitter& sub, auto& out) {
          sub.node_died(info.id, out);
        });
        core->on_node_died(info.id, info.address);
      }
    },
    [=](watch_atom) {
      auto raylet = core->raylet();
      if (raylet && raylet->node() != self->node())
        self->monitor(raylet);
      submit(self, core, [&](task_submitter& sub, auto& out) {
        sub.local_node(core->raylet_node(), out);
      });
    },
    [=](take_atom, const wire::task_id& id) {
      take_ready(self, core);
      auto spec = self->state.submitter.remove(id);
      if (!spec)
        return wire::task_spec{};
      // No node: a cancel finds it running in this process.
      core->on_sent({*spec}, wire::unique_id{}, 0);
      return std::move(*spec);
    },
    [=](queue_atom) { take_ready(self, core); },
    [=](wire::cancel_atom, const wire::task_id& id, bool recursive) {
      // Another owner's task, which may run in this worker process: its
      // raylet passes the cancel on.
      if (id.hi != core->worker_id()) {
        core->cancel_here(id, recursive);
        return;
      }
      // This process' own task (see core_worker::cancel): take it back
      // from the submitter, or have its node flag it.
      take_ready(self, core);
      if (auto spec = self->state.submitter.remove(id)) {
        core->fail_unsent({*spec}, core_worker::cancelled_error_info(id));
        return;
      }
      auto node = core->node_of(id);
      if (!node)
        return; // finished meanwhile
      // Embedded, the executors are this process' own.
      if (node->nil()) {
        core->cancel_here(id, recursive);
        return;
      }
      if (auto raylet = raylet_of(self, core, *node))
        self->send(raylet, wire::cancel_atom::value, id, recursive);
    },
    [=](wire::submit_atom, std::vector<wire::task_spec>& tasks) {
      CARAWAY_LOG(debug, owner)
        << "tasks handed back" << log::kv("tasks", ids_of(tasks));
      submit(self, core, [&](task_submitter& sub, auto& out) {
        sub.hand_back(std::move(tasks), out);
      });
    },
    [=](wire::done_atom, uint64_t lease) {
      CARAWAY_LOG(debug, owner) << "lease done" << log::kv("lease", lease);
      lease_free(self, core, lease);
    },
    [=](wire::log_atom, std::vector<std::string>& lines) {
      if (!core->cfg().log_to_driver)
        return;
      if (auto& pass_on = core->on_output()) {
        pass_on(std::move(lines));
        return;
      }
      std::string text;
      for (auto& line : lines) {
        text += line;
        text += '\n';
      }
      // One write: lines from different workers do not interleave.
      std::fwrite(text.data(), 1, text.size(), stderr);
      std::fflush(stderr);
    },
    [=](wire::dead_atom, uint64_t lease, const std::string& why) {
      submit(self, core, [&](task_submitter& sub, auto& out) {
        sub.lease_lost(lease, out);
      });
      core->on_worker_died(lease, why);
    },
    [=](wire::events_atom) {
      core->flush_task_events();
      self->delayed_send(self, task_events_period, wire::events_atom::value);
    },
    [=](wire::metrics_atom) {
      core->send_metrics();
      self->delayed_send(self, metrics_period, wire::metrics_atom::value);
    },
    [=](wire::idle_atom) {
      self->state.expire_scheduled = false;
      auto next = task_submitter::clock::time_point::max();
      submit(self, core, [&](task_submitter& sub, auto& out) {
        next = sub.expire(task_submitter::clock::now(), out);
      });
      expire_later(self, next);
    },
    [=](wire::retry_atom) {
      self->state.retry_scheduled = false;
      self->state.recheck_scheduled = false;
      submit(self, core,
             [](task_submitter& sub, auto& out) { sub.resume(out); });
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
    [=](wire::unpin_atom, const wire::object_id& id) { core->unpin(id); },
    [=](wire::objects_atom, uint32_t limit)
      -> std::tuple<std::vector<wire::object_info>, uint64_t> {
      uint64_t total = 0;
      auto objects = core->objects(limit, total);
      return {std::move(objects), total};
    },
    [=](wire::objects_atom,
        const wire::object_id& id) -> caf::result<wire::object_info> {
      if (auto x = core->object(id))
        return std::move(*x);
      return caf::make_error(wire::errc::not_found,
                             "this process does not own object "
                               + wire::to_string(id));
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
        wire::owner_actor& pinned_by) { borrow(self, core, id, pinned_by); },
  };
}

} // namespace caraway::owner
