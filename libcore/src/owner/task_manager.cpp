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
  if (t.spec.actor.nil()
      && result.attempt != static_cast<uint32_t>(t.attempts))
    return verdict::stale;
  auto left = t.spec.max_retries < 0 || t.attempts < t.spec.max_retries;
  if (result.error.kind == wire::error_kind::task_failed && t.spec.actor.nil()
      && t.spec.retry_exceptions && left) {
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

bool task_manager::retry_lost(pending_task& task) {
  if (task.spec.max_retries >= 0 && task.attempts >= task.spec.max_retries)
    return false;
  ++task.attempts;
  task.sent = false;
  task.node = {};
  task.lease = 0;
  return true;
}

std::vector<wire::task_id> task_manager::on_lease(uint64_t lease) const {
  std::vector<wire::task_id> result;
  for (auto& [id, task] : tasks_)
    if (task.sent && task.lease == lease && task.spec.actor.nil())
      result.push_back(id);
  return result;
}

std::vector<wire::task_id>
task_manager::on_node(const wire::unique_id& node) const {
  std::vector<wire::task_id> result;
  for (auto& [id, task] : tasks_)
    if (task.sent && task.node == node && task.spec.actor.nil())
      result.push_back(id);
  return result;
}

namespace {

// What a kept spec costs: its record and the values of its arguments.
uint64_t spec_bytes(const wire::task_spec& spec) {
  uint64_t result = sizeof(pending_task) + spec.function.size();
  for (auto& arg : spec.args)
    result += sizeof(arg) + (arg.value ? arg.value->size() : 0);
  return result;
}

} // namespace

bool task_manager::can_rerun(const pending_task& task) const {
  return task.spec.actor.nil() && task.spec.max_retries != 0
         && system_retries_;
}

void task_manager::keep_lineage(pending_task task,
                                std::vector<pending_task>& dropped) {
  auto id = task.spec.id;
  auto bytes = spec_bytes(task.spec);
  auto seq = lineage_seq_++;
  if (auto old = lineage_.find(id); old != lineage_.end()) {
    lineage_used_ -= old->second.bytes;
    lineage_order_.erase(old->second.seq);
    dropped.emplace_back(std::move(old->second.task));
    lineage_.erase(old);
  }
  lineage_.emplace(id, kept_task{std::move(task), bytes, seq});
  lineage_order_.emplace(seq, id);
  lineage_used_ += bytes;
  while (lineage_used_ > lineage_budget_ && !lineage_order_.empty()) {
    auto oldest = lineage_order_.begin();
    auto i = lineage_.find(oldest->second);
    lineage_order_.erase(oldest);
    lineage_used_ -= i->second.bytes;
    dropped.emplace_back(std::move(i->second.task));
    lineage_.erase(i);
  }
}

std::optional<pending_task>
task_manager::take_lineage(const wire::object_id& id) {
  auto i = lineage_.find(id);
  if (i == lineage_.end())
    return std::nullopt;
  std::optional<pending_task> result{std::move(i->second.task)};
  lineage_used_ -= i->second.bytes;
  lineage_order_.erase(i->second.seq);
  lineage_.erase(i);
  return result;
}

wire::task_spec task_manager::spec_to_send(pending_task& task) const {
  task.spec.attempt = static_cast<uint32_t>(task.attempts);
  // Actor calls are sent again after a restart, which can happen anywhere.
  bool may_retry = task.spec.max_retries != 0
                   && (system_retries_ || task.spec.retry_exceptions
                       || !task.spec.actor.nil());
  if (may_retry)
    return task.spec;
  auto sent = std::move(task.spec);
  // Its name stays, for the task table and object listings.
  task.spec.function = sent.function;
  return sent;
}

} // namespace caraway::owner
