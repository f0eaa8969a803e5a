#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

#include "test_session.hpp"
#include "wait_until.hpp"

using namespace caraway;
using namespace std::chrono_literals;

namespace {

struct custom_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int64_t explode(int64_t x) {
  throw custom_failure("exploded at " + std::to_string(x));
}

std::atomic<bool> fuse_lit{false};

// Throws once the fuse is lit.
int64_t explode_later() {
  test::wait_until([] { return fuse_lit.load(); });
  throw custom_failure("exploded late");
}

int64_t identity(int64_t x) {
  return x;
}

std::atomic<int64_t> flaky_calls{0};

// Fails its first `fail_times` runs.
int64_t flaky(int64_t fail_times) {
  if (flaky_calls++ < fail_times)
    throw std::runtime_error("flaky");
  return flaky_calls;
}

int64_t forward_failure(int64_t x) {
  return get(task(explode).remote(x));
}

} // namespace

CARAWAY_REMOTE(explode, explode_later, identity, forward_failure, flaky)

TEST_CASE("a task that throws gives task_error with type and message") {
  auto s = init(test::small_cluster());
  try {
    get(task(explode).remote(3));
    FAIL("expected task_error");
  } catch (const task_error& e) {
    CHECK(e.type_name().find("custom_failure") != std::string::npos);
    CHECK(e.message() == "exploded at 3");
  }
}

TEST_CASE("the root cause survives a task that rethrows it") {
  auto s = init(test::small_cluster());
  try {
    get(task(forward_failure).remote(4));
    FAIL("expected task_error");
  } catch (const task_error& e) {
    CHECK(e.type_name().find("custom_failure") != std::string::npos);
    CHECK(e.message() == "exploded at 4");
  }
}

TEST_CASE("a task whose argument failed fails with the same error") {
  auto s = init(test::small_cluster());
  auto bad = task(explode).remote(5);
  CHECK_THROWS_AS(get(task(identity).remote(bad)), task_error);
}

TEST_CASE("a failure runs down a long chain of dependent tasks") {
  // Each task waits on the one before; the failure reaches the end without
  // one stack frame per link.
  auto s = init(test::small_cluster());
  fuse_lit = false;
  auto r = task(explode_later).remote();
  for (int i = 0; i < 20000; ++i)
    r = task(identity).remote(r);
  fuse_lit = true;
  CHECK_THROWS_AS(get(r), task_error);
}

TEST_CASE("a ref from an earlier session fails instead of hanging") {
  object_ref<int64_t> old;
  {
    auto s = init(test::small_cluster());
    old = put(int64_t{1});
  }
  auto s = init(test::small_cluster());
  auto copy = old;
  CHECK_THROWS_AS(get(copy, 5s), object_lost_error);
}

TEST_CASE("invalid options are rejected at the call") {
  auto s = init(test::small_cluster());
  auto nan = std::numeric_limits<double>::quiet_NaN();
  auto inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(task(identity).resources({{"", 1}}), invalid_argument_error);
  CHECK_THROWS_AS(task(identity).resources({{"ssd", -1}}),
                  invalid_argument_error);
  CHECK_THROWS_AS(task(identity).resources({{"ssd", nan}}),
                  invalid_argument_error);
  CHECK_THROWS_AS(task(identity).resources({{"ssd", inf}}),
                  invalid_argument_error);
  // CPUs and GPUs have options of their own; in resources() they would be
  // overridden by num_cpus' default.
  CHECK_THROWS_WITH_AS(task(identity).resources({{"CPU", 2}}),
                       doctest::Contains("num_cpus()"), invalid_argument_error);
  CHECK_THROWS_WITH_AS(task(identity).resources({{"GPU", 1}}),
                       doctest::Contains("num_gpus()"), invalid_argument_error);
  CHECK_THROWS_AS(task(identity).num_cpus(-0.5), invalid_argument_error);
  CHECK_THROWS_AS(task(identity).num_cpus(nan), invalid_argument_error);
  CHECK_THROWS_AS(task(identity).max_retries(-2), invalid_argument_error);
  CHECK_NOTHROW(task(identity).max_retries(-1));
}

TEST_CASE("a task asking for more than the node has stays pending") {
  auto s = init(test::small_cluster(2));
  std::vector<object_ref<int64_t>> refs{
    task(identity).num_cpus(3).remote(1),
    task(identity).resources({{"gpu_x", 1}}).remote(2)};
  auto w = wait(refs, 1, 200ms);
  CHECK(w.ready.empty());
  CHECK(w.pending.size() == 2);
  // Nothing else is disturbed.
  CHECK(get(task(identity).remote(3)) == 3);
}

TEST_CASE("fractional and custom resources schedule where they fit") {
  auto cfg = test::small_cluster(1);
  cfg.resources = {{"ssd", 2}};
  auto s = init(cfg);
  std::vector<object_ref<int64_t>> refs;
  for (int64_t i = 0; i < 8; ++i)
    refs.emplace_back(
      task(identity).num_cpus(0.5).resources({{"ssd", 1}}).remote(i));
  CHECK(get(refs).size() == 8);
}

TEST_CASE("retry_exceptions re-runs a failing task max_retries times") {
  auto s = init(test::small_cluster());
  SUBCASE("enough retries") {
    flaky_calls = 0;
    CHECK(get(task(flaky).max_retries(2).retry_exceptions().remote(2)) == 3);
  }
  SUBCASE("too few retries") {
    flaky_calls = 0;
    CHECK_THROWS_AS(
      get(task(flaky).max_retries(1).retry_exceptions().remote(2)),
      task_error);
    CHECK(flaky_calls == 2);
  }
  SUBCASE("application errors are not retried by default") {
    flaky_calls = 0;
    CHECK_THROWS_AS(get(task(flaky).max_retries(2).remote(1)), task_error);
    CHECK(flaky_calls == 1);
  }
}

TEST_CASE("get outside a session is a clear error") {
  CHECK_FALSE(is_initialized());
  CHECK_THROWS_AS(put(int64_t{1}), error);
}

TEST_CASE("init twice is an error, init after shutdown works") {
  auto s = init(test::small_cluster());
  CHECK(is_initialized());
  CHECK_THROWS_AS(init(test::small_cluster()), error);
  s.shutdown();
  CHECK_FALSE(is_initialized());
  auto again = init(test::small_cluster());
  CHECK(get(task(identity).remote(9)) == 9);
}
