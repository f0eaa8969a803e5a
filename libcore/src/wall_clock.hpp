#pragma once

// Time for the task table: wall-clock nanoseconds since the epoch, which
// compare across the processes (and machines) that record a task's events.

#include <chrono>
#include <cstdint>

namespace caraway::core {

inline int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace caraway::core
