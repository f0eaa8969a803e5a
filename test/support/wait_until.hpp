#pragma once

// Waiting for a condition in tests: poll it, with a bound, instead of
// sleeping and hoping it came true meanwhile.

#include <chrono>
#include <thread>

namespace caraway::test {

/// Polls `pred` until it holds or `bound` passes; returns whether it held.
template <class Predicate>
bool wait_until(Predicate pred,
                std::chrono::milliseconds bound = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

} // namespace caraway::test
