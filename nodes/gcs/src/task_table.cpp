#include "caraway/node/task_table.hpp"

#include <algorithm>

namespace caraway::node {

namespace {

bool ended(wire::task_state x) {
  return x == wire::task_state::finished || x == wire::task_state::failed;
}

} // namespace

void task_table::apply(const std::vector<wire::task_info>& changes) {
  if (capacity_ == 0)
    return;
  for (auto& x : changes) {
    auto i = rows_.find(x.id);
    if (i == rows_.end()) {
      if (ring_.size() < capacity_) {
        rows_.emplace(x.id, ring_.size());
        ring_.push_back(x);
        continue;
      }
      // Full: the oldest row makes room.
      rows_.erase(ring_[next_].id);
      ++evicted_;
      ring_[next_] = x;
      rows_.emplace(x.id, next_);
      next_ = (next_ + 1) % capacity_;
      continue;
    }
    auto& row = ring_[i->second];
    if (!x.function.empty())
      row.function = x.function;
    // Batches of one owner arrive in order: the latest state holds. A
    // worker's report that the task runs comes from elsewhere: it does not
    // undo an end, and the owner's "scheduled" for that attempt does not
    // undo it.
    bool same_attempt = x.attempts == 0 || x.attempts == row.attempts;
    bool keep = (x.state == wire::task_state::running && ended(row.state))
                || (row.state == wire::task_state::running
                    && x.state == wire::task_state::scheduled && same_attempt)
                || (x.state == wire::task_state::running
                    && x.attempts < row.attempts);
    if (!keep)
      row.state = x.state;
    if (x.started_ns != 0)
      row.started_ns = x.started_ns;
    if (x.ran_until_ns != 0)
      row.ran_until_ns = x.ran_until_ns;
    if (x.pid != 0)
      row.pid = x.pid;
    if (!x.node.nil())
      row.node = x.node;
    if (x.state == wire::task_state::failed || !x.error.empty())
      row.error = x.error;
    if (x.submitted_ns != 0)
      row.submitted_ns = x.submitted_ns;
    if (x.scheduled_ns != 0)
      row.scheduled_ns = x.scheduled_ns;
    if (x.ended_ns != 0 || !ended(row.state))
      row.ended_ns = x.ended_ns;
    row.attempts = std::max(row.attempts, x.attempts);
  }
}

const wire::task_info* task_table::find(const wire::task_id& id) const {
  auto i = rows_.find(id);
  return i != rows_.end() ? &ring_[i->second] : nullptr;
}

std::vector<wire::task_info> task_table::list() const {
  // Oldest first: from `next_` round the ring.
  std::vector<wire::task_info> result;
  result.reserve(ring_.size());
  for (size_t k = 0; k < ring_.size(); ++k)
    result.push_back(ring_[(next_ + k) % ring_.size()]);
  return result;
}

} // namespace caraway::node
