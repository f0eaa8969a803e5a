#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "caraway/node/task_runner.hpp"
#include "caraway/wire/interfaces.hpp"

namespace caraway::node {

/// The hooks of a worker process' executor, to host an actor and to end its
/// process: the gcs the actor's host reports to, what ends the process (it
/// ends with its actor), and whether it may end (it holds nothing others
/// need). Empty in a daemon's executors.
struct worker_hooks {
  wire::gcs_actor gcs;
  std::string address; // where the process listens
  std::function<void()> on_end;
  std::function<bool()> may_end;
};

struct executor_state {
  static inline const char* name = "caraway.executor";
  wire::raylet_actor raylet;
  task_runner_ptr runner;
  worker_hooks hosting;
  caf::actor host;
};

/// Runs stateless tasks one at a time; spawn it detached, since user code
/// may block. In a worker process started for an actor (`hosting` set), it
/// hosts that actor instead.
wire::executor_actor::behavior_type
executor(wire::executor_actor::stateful_pointer<executor_state> self,
         wire::raylet_actor raylet, task_runner_ptr runner,
         worker_hooks hosting);

struct actor_host_state {
  static inline const char* name = "caraway.actor_host";
  std::string address; // of its worker process, if in one
  wire::actor_spec spec;
  uint64_t lease = 0;
  wire::raylet_actor raylet;
  wire::gcs_actor gcs;
  task_runner_ptr runner;
  std::shared_ptr<void> instance;
  // With max_concurrency > 1, lanes run calls on threads of their own.
  std::vector<caf::actor> lanes;
  std::vector<uint32_t> idle_lanes;
  std::deque<wire::task_spec> backlog;
};

/// The actor host's own view of itself: its public interface plus the
/// messages of its lanes.
using actor_host_impl = wire::actor_host_actor::extend<
  // A lane (a thread of an actor with max_concurrency > 1) is free again.
  caf::reacts_to<wire::idle_atom, uint32_t>>;

/// Holds one user actor; spawn it detached. Reports to the gcs whether the
/// constructor succeeded.
actor_host_impl::behavior_type
actor_host(actor_host_impl::stateful_pointer<actor_host_state> self,
           wire::actor_spec spec, uint64_t lease, wire::raylet_actor raylet,
           wire::gcs_actor gcs, task_runner_ptr runner, std::string address);

} // namespace caraway::node
