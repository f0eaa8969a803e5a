#pragma once

// The owner's task manager: the tasks and actor calls this process submitted
// that have not finished, with their attempts. Retries of system failures
// and lineage will live here too.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "caraway/wire/ids.hpp"
#include "caraway/wire/records.hpp"

namespace caraway::owner {

/// A task or actor call from submission until its result is in.
struct pending_task {
  wire::task_spec spec;
  /// Objects the task keeps alive (as `submitted` refs) until it is done:
  /// its ref arguments and the refs nested in its arguments.
  std::vector<wire::object_id> holds;
  int32_t attempts = 0;
  /// Handed to a raylet or an actor host for the current attempt.
  bool sent = false;
};

/// Pending tasks by id. Not thread-safe: the core worker calls it under its
/// lock.
class task_manager {
public:
  void add(pending_task task);

  /// Null if `id` is not pending.
  pending_task* find(const wire::task_id& id);

  /// What to do with a result.
  enum class verdict : uint8_t {
    unknown, // not pending here (finished, failed, or never submitted)
    retry,   // run again: the task stays pending, not sent
    done,    // the task is finished: taken out
  };

  /// Decides on `result`: an application error of a stateless task with
  /// `retry_exceptions` and attempts left is retried; anything else ends the
  /// task, which then goes to `done`.
  verdict on_result(const wire::task_result& result,
                    std::optional<pending_task>& done);

  /// Takes a pending task out (it failed before it ran); empty if unknown.
  std::optional<pending_task> take(const wire::task_id& id);

  /// The spec to send for the task's current attempt: moved out when no
  /// retry can need it again.
  static wire::task_spec spec_to_send(pending_task& task);

  size_t size() const {
    return tasks_.size();
  }

private:
  std::unordered_map<wire::task_id, pending_task> tasks_;
};

} // namespace caraway::owner
