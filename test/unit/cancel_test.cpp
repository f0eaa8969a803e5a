// Cancelling tasks through the public API, on an embedded cluster.

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "test_session.hpp"

using namespace caraway;
using namespace std::chrono_literals;

namespace {

// Runs until it is cancelled (10 s at most); returns how long it ran, in
// milliseconds.
int64_t until_cancelled() {
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + 10s;
  while (!cancelled() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - start)
    .count();
}

// Submits a child that runs until cancelled, and waits for it.
int64_t parent_of_waiter() {
  return get(task(until_cancelled).remote()) + 1;
}

int64_t plus_one(int64_t x) {
  return x + 1;
}

// Waits, boundedly, until `ref` is ready; false if it never is.
template <class T>
bool ready_within(const object_ref<T>& ref, std::chrono::milliseconds bound) {
  std::vector<object_ref<T>> refs{ref};
  return wait(refs, 1, bound).ready.size() == 1;
}

} // namespace

CARAWAY_REMOTE(until_cancelled, parent_of_waiter, plus_one)

TEST_CASE("cancelling a running task flags it; its get throws "
          "cancelled_error") {
  auto s = init(test::small_cluster(1));
  auto running = task(until_cancelled).remote();
  // Waits for the only CPU, behind the running task.
  auto queued = task(plus_one).remote(int64_t{1});
  // Waits for its argument: never sent.
  auto dependent = task(plus_one).remote(running);
  CHECK_FALSE(ready_within(running, 50ms));
  cancel(dependent);
  CHECK_THROWS_AS(get(dependent, 5s), cancelled_error);
  cancel(queued);
  CHECK_THROWS_AS(get(queued, 5s), cancelled_error);
  cancel(running);
  CHECK_THROWS_AS(get(running, 5s), cancelled_error);
  // The CPU is free again for the next task.
  CHECK(get(task(plus_one).remote(int64_t{41}), 5s) == 42);
}

TEST_CASE("cancelling a finished task does nothing") {
  auto s = init(test::small_cluster());
  auto done = task(plus_one).remote(int64_t{1});
  CHECK(get(done, 5s) == 2);
  cancel(done);
  CHECK(get(done, 5s) == 2);
}

TEST_CASE("a recursive cancel reaches the tasks a task submitted") {
  auto s = init(test::small_cluster());
  auto parent = task(parent_of_waiter).remote();
  CHECK_FALSE(ready_within(parent, 50ms));
  SUBCASE("recursive") {
    cancel(parent);
    CHECK_THROWS_AS(get(parent, 5s), cancelled_error);
  }
  SUBCASE("not recursive: the child runs on, so the parent waits") {
    cancel(parent, false, false);
    CHECK_FALSE(ready_within(parent, 200ms));
    // Its child runs out after 10 s: cancel it the recursive way too.
    cancel(parent);
    CHECK_THROWS_AS(get(parent, 5s), cancelled_error);
  }
}

TEST_CASE("cancel with force needs worker processes") {
  auto s = init(test::small_cluster());
  auto r = task(plus_one).remote(int64_t{1});
  CHECK_THROWS_AS(cancel(r, true), invalid_argument_error);
  CHECK(get(r, 5s) == 2);
}
