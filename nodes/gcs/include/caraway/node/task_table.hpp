#pragma once

// The gcs' task table: what became of the latest tasks, as their owners
// report it in batches. Bounded: past `capacity` tasks, the ones reported
// first go first (in constant time), and are counted.

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "caraway/wire/records.hpp"

namespace caraway::node {

class task_table {
public:
  explicit task_table(size_t capacity = 10000) : capacity_(capacity) {
    // nop
  }

  /// Takes in owners' changes: a new task is added, a known one updated
  /// with the fields set (a later state, a node, an error, times).
  void apply(const std::vector<wire::task_info>& changes);

  /// Every task kept, oldest first.
  std::vector<wire::task_info> list() const;

  /// The row of task `id`; null if none is kept.
  const wire::task_info* find(const wire::task_id& id) const;

  size_t size() const {
    return rows_.size();
  }

  /// Tasks dropped to stay within the capacity.
  uint64_t evicted() const {
    return evicted_;
  }

private:
  size_t capacity_;
  uint64_t evicted_ = 0;
  /// A ring of rows, oldest at `next_` once full: no allocation per task.
  std::vector<wire::task_info> ring_;
  size_t next_ = 0;
  std::unordered_map<wire::task_id, size_t> rows_;
};

} // namespace caraway::node
