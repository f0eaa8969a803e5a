#pragma once

// The owner's task manager: the tasks and actor calls this process submitted
// that have not finished, with their attempts and the node holding each
// attempt, so that a task lost with its node runs again. Lineage will live
// here too.

#include <cstdint>
#include <map>
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
  /// Runs so far beyond the first: also the number of the current attempt,
  /// which its result must carry.
  int32_t attempts = 0;
  /// Handed to a raylet or an actor host for the current attempt.
  bool sent = false;
  /// The node whose raylet holds the current attempt (stateless tasks),
  /// and the lease it went to (0 before it was sent to one).
  wire::unique_id node;
  uint64_t lease = 0;
  /// The task of this process that submitted it (nil from a driver's own
  /// threads): cancelled along with it.
  wire::task_id parent;
  /// For the task table: when it was submitted and last sent (ns since the
  /// epoch, 0 if task events are off).
  int64_t submitted_ns = 0;
  int64_t scheduled_ns = 0;
};

/// Pending tasks by id. Not thread-safe: the core worker calls it under its
/// lock.
class task_manager {
public:
  void add(pending_task task);

  /// Null if `id` is not pending.
  pending_task* find(const wire::task_id& id);

  const pending_task* find(const wire::task_id& id) const {
    auto i = tasks_.find(id);
    return i != tasks_.end() ? &i->second : nullptr;
  }

  /// What to do with a result.
  enum class verdict : uint8_t {
    unknown, // not pending here (finished, failed, or never submitted)
    stale,   // from an attempt given up on (its node was declared dead)
    retry,   // run again: the task stays pending, not sent
    done,    // the task is finished: taken out
  };

  /// Decides on `result`: an application error of a stateless task with
  /// `retry_exceptions` and attempts left is retried; anything else ends the
  /// task, which then goes to `done`.
  verdict on_result(const wire::task_result& result,
                    std::optional<pending_task>& done);

  /// Takes another attempt for a task whose current one was lost (its node
  /// died): true, and the task is pending and unsent again, if `max_retries`
  /// allows; false if it has none left.
  static bool retry_lost(pending_task& task);

  /// The sent stateless tasks whose current attempt is on `node`.
  std::vector<wire::task_id> on_node(const wire::unique_id& node) const;

  /// The sent stateless tasks whose current attempt went to `lease`.
  std::vector<wire::task_id> on_lease(uint64_t lease) const;

  /// Keep each spec after sending it while a retry could need it: with
  /// `system_retries`, for every task with retries (its node may die);
  /// otherwise only for retried exceptions. Off for an embedded cluster,
  /// where no node dies alone.
  void keep_specs(bool system_retries) {
    system_retries_ = system_retries;
  }

  /// Takes a pending task out (it failed before it ran); empty if unknown.
  std::optional<pending_task> take(const wire::task_id& id);

  /// The spec to send for the task's current attempt: moved out when no
  /// retry can need it again.
  wire::task_spec spec_to_send(pending_task& task) const;

  size_t size() const {
    return tasks_.size();
  }

  /// Calls `f` with every pending task.
  template <class F>
  void for_each(F f) const {
    for (auto& kvp : tasks_)
      f(kvp.second);
  }

  // -- lineage: finished tasks whose result lives in another node's store --

  /// Whether the spec of a finished `task` is still there to run it again.
  bool can_rerun(const pending_task& task) const;

  /// Keeps a finished task, its holds included, so that its result can be
  /// rebuilt; the oldest kept tasks beyond the byte budget come back in
  /// `dropped` (their holds are the caller's to release).
  void keep_lineage(pending_task task, std::vector<pending_task>& dropped);

  /// Takes the kept task that made `id` out; empty if there is none.
  std::optional<pending_task> take_lineage(const wire::object_id& id);

  void lineage_budget(uint64_t bytes) {
    lineage_budget_ = bytes;
  }

  size_t lineage_size() const {
    return lineage_.size();
  }

  uint64_t lineage_bytes() const {
    return lineage_used_;
  }

private:
  struct kept_task {
    pending_task task;
    uint64_t bytes;
    uint64_t seq;
  };

  std::unordered_map<wire::task_id, pending_task> tasks_;
  std::unordered_map<wire::task_id, kept_task> lineage_;
  std::map<uint64_t, wire::task_id> lineage_order_; // oldest first
  uint64_t lineage_seq_ = 0;
  uint64_t lineage_used_ = 0;
  uint64_t lineage_budget_ = uint64_t{256} << 20;
  bool system_retries_ = false;
};

} // namespace caraway::owner
