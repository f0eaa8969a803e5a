#include "caraway/node/executor.hpp"

#include <unistd.h>

#include <caf/all.hpp>

#include "caraway/log.hpp"

namespace caraway::node {

task_runner::~task_runner() {
  // nop
}

bool task_runner::stopping() const {
  return false;
}

void task_runner::deliver(const wire::task_spec& spec,
                          wire::task_result result) {
  result.attempt = spec.attempt;
  if (spec.owner)
    caf::anon_send(spec.owner,
                   wire::result_atom::value, std::move(result));
}

namespace {

// A context whose blocking lends out `lease`; tasks batched behind the
// blocked one (in `backlog`, if any) go back to their owner so that they do
// not wait behind it.
worker_context make_context(wire::raylet_actor raylet, uint64_t lease,
                            std::deque<wire::task_spec>* backlog = nullptr) {
  worker_context ctx;
  ctx.on_block = [raylet, lease, backlog] {
    caf::anon_send(raylet, wire::blocked_atom::value, lease);
    if (backlog != nullptr && !backlog->empty()) {
      auto owner = backlog->front().owner;
      std::vector<wire::task_spec> tasks{
        std::make_move_iterator(backlog->begin()),
        std::make_move_iterator(backlog->end())};
      backlog->clear();
      CARAWAY_LOG(debug, executor)
        << "blocked in get; handing tasks back to their owner"
        << log::kv("lease", lease) << log::kv("tasks", tasks.size());
      if (owner)
        caf::anon_send(owner, wire::submit_atom::value, std::move(tasks));
    }
  };
  ctx.on_unblock = [raylet, lease] {
    caf::anon_send(raylet, wire::unblocked_atom::value, lease);
  };
  return ctx;
}

// A lane runs calls for an actor with max_concurrency > 1.
caf::behavior lane(caf::event_based_actor*, actor_host_impl host,
                   uint32_t index, std::shared_ptr<void> instance,
                   wire::actor_spec actor, task_runner_ptr runner,
                   worker_context ctx) {
  return {
    [=](wire::call_atom, const wire::task_spec& spec) {
      runner->deliver(spec,
                      runner->run_method(instance.get(), actor, spec, ctx));
      caf::anon_send(host, wire::idle_atom::value, index);
    },
  };
}

} // namespace

wire::executor_actor::behavior_type
executor(wire::executor_actor::stateful_pointer<executor_state> self,
         wire::raylet_actor raylet, task_runner_ptr runner,
         worker_hooks hosting) {
  self->state.raylet = std::move(raylet);
  self->state.runner = std::move(runner);
  self->state.hosting = std::move(hosting);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.host && msg.source == st.host.address()) {
      st.host = nullptr;
      if (st.hosting.on_end)
        st.hosting.on_end();
    }
  });
  return {
    [=](wire::stop_atom) {
      auto& st = self->state;
      if (st.host || !st.hosting.may_end || !st.hosting.may_end())
        return false;
      st.hosting.on_end();
      return true;
    },
    [=](wire::stop_atom, wire::job_atom) {
      if (self->state.hosting.on_end)
        self->state.hosting.on_end();
    },
    [=](wire::create_atom, wire::actor_spec& spec, uint64_t lease) {
      auto& st = self->state;
      if (!st.hosting.gcs || st.host) {
        CARAWAY_LOG(warning, runtime)
          << "asked to host an actor where none can be"
          << log::kv("class", spec.class_name);
        return;
      }
      auto host = self->system().spawn<caf::detached>(
        actor_host, std::move(spec), lease, st.raylet, st.hosting.gcs,
        st.runner, st.hosting.address);
      st.host = caf::actor_cast<caf::actor>(host);
      self->monitor(host);
      self->send(host, wire::create_atom::value);
    },
    [=](wire::execute_atom, std::vector<wire::task_spec>& batch,
        uint64_t lease) {
      auto& st = self->state;
      // Every task of a batch comes from the owner holding the lease; its
      // last result tells the owner the lease is free.
      auto owner = batch.empty() ? wire::owner_actor{} : batch.front().owner;
      std::deque<wire::task_spec> backlog{
        std::make_move_iterator(batch.begin()),
        std::make_move_iterator(batch.end())};
      auto ctx = make_context(st.raylet, lease, &backlog);
      CARAWAY_LOG(debug, executor)
        << "running a batch" << log::kv("executor", self->id())
        << log::kv("lease", lease) << log::kv("tasks", backlog.size());
      if (backlog.empty()) {
        if (owner)
          self->send(owner, wire::done_atom::value, lease);
        return;
      }
      while (!backlog.empty()) {
        auto spec = std::move(backlog.front());
        backlog.pop_front();
        wire::task_result result;
        if (st.runner->stopping()) {
          result.id = spec.id;
          result.error = {wire::error_kind::shutting_down, "",
                          "caraway shut down before the task ran"};
        } else {
          result = st.runner->run_task(spec, ctx);
        }
        // The last result (tasks handed back included) frees the lease.
        if (backlog.empty())
          result.lease_done = lease;
        st.runner->deliver(spec, std::move(result));
      }
    },
  };
}

actor_host_impl::behavior_type
actor_host(actor_host_impl::stateful_pointer<actor_host_state> self,
           wire::actor_spec spec, uint64_t lease, wire::raylet_actor raylet,
           wire::gcs_actor gcs, task_runner_ptr runner, std::string address) {
  auto& st = self->state;
  st.address = std::move(address);
  st.spec = std::move(spec);
  st.lease = lease;
  st.raylet = std::move(raylet);
  st.gcs = std::move(gcs);
  st.runner = std::move(runner);
  return {
    [=](wire::create_atom) {
      auto& st = self->state;
      wire::error_info err;
      auto ctx = make_context(st.raylet, st.lease);
      st.instance = st.runner->construct(st.spec, ctx, err);
      if (!st.instance) {
        self->send(st.gcs, wire::dead_atom::value, st.spec.id, err);
        self->quit();
        return;
      }
      for (uint32_t i = 0; st.spec.max_concurrency > 1
                           && i < st.spec.max_concurrency;
           ++i) {
        auto l = self->system().spawn<caf::detached>(
          lane, actor_host_impl{self}, i, st.instance, st.spec,
          st.runner, ctx);
        self->link_to(l);
        st.lanes.emplace_back(l);
        st.idle_lanes.emplace_back(i);
      }
      self->send(st.gcs, wire::alive_atom::value, st.spec.id,
                 wire::actor_host_actor{self}, st.address,
                 static_cast<int32_t>(::getpid()));
    },
    [=](wire::call_atom, wire::task_spec& spec) {
      auto& st = self->state;
      if (st.lanes.empty()) {
        auto ctx = make_context(st.raylet, st.lease);
        st.runner->deliver(spec, st.runner->run_method(st.instance.get(),
                                                       st.spec, spec, ctx));
      } else if (!st.idle_lanes.empty()) {
        caf::anon_send(st.lanes[st.idle_lanes.back()], wire::call_atom::value,
                       std::move(spec));
        st.idle_lanes.pop_back();
      } else {
        st.backlog.emplace_back(std::move(spec));
      }
    },
    [=](wire::idle_atom, uint32_t index) {
      auto& st = self->state;
      if (!st.backlog.empty()) {
        caf::anon_send(st.lanes[index], wire::call_atom::value,
                       std::move(st.backlog.front()));
        st.backlog.pop_front();
      } else {
        st.idle_lanes.emplace_back(index);
      }
    },
    [=](wire::kill_atom) {
      self->quit(caf::exit_reason::user_shutdown);
    },
  };
}

} // namespace caraway::node
