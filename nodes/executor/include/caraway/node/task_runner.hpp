#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "caraway/wire/interfaces.hpp"

namespace caraway::node {

/// Where user code runs. A task that blocks in `get` says so through it, so
/// that its lease lends its resources out meanwhile; the executor or actor
/// host that made it knows the lease and the raylet, the runner does not.
struct worker_context {
  std::function<void()> on_block;
  std::function<void()> on_unblock;

  void blocked() const {
    if (on_block)
      on_block();
  }

  void unblocked() const {
    if (on_unblock)
      on_unblock();
  }
};

/// Runs user code. The executor and the actor host know nothing about
/// functions or classes; the process that loaded them implements this.
class task_runner {
public:
  virtual ~task_runner();

  /// Runs a stateless task; never throws.
  virtual wire::task_result run_task(const wire::task_spec& spec,
                                     const worker_context& ctx)
    = 0;

  /// True once the process shuts down: batched tasks not started yet are
  /// then failed instead of run.
  virtual bool stopping() const;

  /// Hands a result to the task's owner.
  virtual void deliver(const wire::task_spec& spec, wire::task_result result);

  /// Constructs an actor's object; on failure returns null and sets `err`.
  virtual std::shared_ptr<void> construct(const wire::actor_spec& spec,
                                          const worker_context& ctx,
                                          wire::error_info& err)
    = 0;

  /// Runs one method call on `self`; never throws.
  virtual wire::task_result run_method(void* self,
                                       const wire::actor_spec& actor,
                                       const wire::task_spec& spec,
                                       const worker_context& ctx)
    = 0;
};

using task_runner_ptr = std::shared_ptr<task_runner>;

} // namespace caraway::node
