#include "task_manager.hpp"

namespace caraway::owner {

void task_manager::add(pending_task task) {
  auto id = task.spec.id;
  tasks_.emplace(id, std::move(task));
}

pending_task* task_manager::find(const wire::task_id& id) {
  auto i = tasks_.find(id);
  return i != tasks_.end() ? &i->second : nullptr;
}

task_manager::verdict
task_manager::on_result(const wire::task_result& result,
                        std::optional<pending_task>& done) {
  auto i = tasks_.find(result.id);
  if (i == tasks_.end())
    return verdict::unknown;
  auto& t = i->second;
  if (result.error.kind == wire::error_kind::task_failed && t.spec.actor.nil()
      && t.spec.retry_exceptions && t.attempts < t.spec.max_retries) {
    ++t.attempts;
    t.sent = false;
    return verdict::retry;
  }
  done.emplace(std::move(t));
  tasks_.erase(i);
  return verdict::done;
}

std::optional<pending_task> task_manager::take(const wire::task_id& id) {
  auto i = tasks_.find(id);
  if (i == tasks_.end())
    return std::nullopt;
  std::optional<pending_task> result{std::move(i->second)};
  tasks_.erase(i);
  return result;
}

wire::task_spec task_manager::spec_to_send(pending_task& task) {
  if (task.spec.max_retries > 0)
    return task.spec;
  return std::move(task.spec);
}

} // namespace caraway::owner
