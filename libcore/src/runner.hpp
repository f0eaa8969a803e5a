#pragma once

#include <functional>

#include "caraway/node/task_runner.hpp"
#include "owner/core_worker.hpp"

namespace caraway::core {

/// Runs registered functions and actor methods for executors and actor
/// hosts of this process.
class runner : public node::task_runner {
public:
  explicit runner(owner::core_worker& core) : core_(core) {
    // nop
  }

  /// What errors say about where the code ran (default: the node), e.g. a
  /// worker process with its job and libraries.
  void where(std::string text) {
    where_ = std::move(text);
  }

  /// Called with each task or method call before it runs (a worker process
  /// tells what it prints apart by it). Set before any task runs.
  std::function<void(const wire::task_spec&)> on_start;

  wire::task_result run_task(const wire::task_spec& spec,
                             const node::worker_context& ctx) override;

  bool stopping() const override {
    return core_.stopped();
  }

  /// Results for this process go straight into its object table, saving a
  /// hop through the owner actor.
  void deliver(const wire::task_spec& spec, wire::task_result result) override;

  std::shared_ptr<void> construct(const wire::actor_spec& spec,
                                  const node::worker_context& ctx,
                                  wire::error_info& err) override;

  wire::task_result run_method(void* self, const wire::actor_spec& actor,
                               const wire::task_spec& spec,
                               const node::worker_context& ctx) override;

private:
  // Runs the task, which was not cancelled before it started.
  wire::task_result run_uncancelled(const wire::task_spec& spec,
                                    const node::worker_context& ctx);

  // Names this node in errors.
  std::string where() const;

  // The bytes of each argument, pulling those another process holds; on
  // failure sets `err`.
  // Tells `owner` about copies pulled.
  bool fetch_args(const std::vector<wire::task_arg>& args,
                  const wire::owner_actor& owner,
                  std::vector<wire::buffer_ptr>& values, wire::error_info& err);

  template <class F>
  void invoke(wire::task_result& result, const wire::task_spec& spec, F&& fn);

  owner::core_worker& core_;
  std::string where_;
};

} // namespace caraway::core
