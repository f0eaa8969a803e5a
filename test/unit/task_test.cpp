#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <vector>

#include "test_session.hpp"

using namespace caraway;

// External linkage: the error can name it from the dynamic symbol table.
int64_t caraway_test_not_registered(int64_t x) {
  return x;
}

namespace {

int64_t add(int64_t x, int64_t y) {
  return x + y;
}

std::string concat(const std::string& x, std::string&& y) {
  return x + y;
}

int64_t overloaded(int64_t x) {
  return x * 10;
}

std::string overloaded(std::string x) {
  return x + "!";
}

std::atomic<int> side_effects{0};

void bump(int64_t n) {
  side_effects += static_cast<int>(n);
}

int64_t sum_refs(std::vector<object_ref<int64_t>> refs) {
  int64_t result = 0;
  for (auto& r : refs)
    result += get(r);
  return result;
}

int64_t count_refs(const std::vector<object_ref<int64_t>>& refs) {
  return static_cast<int64_t>(refs.size());
}

std::vector<object_ref<int64_t>> make_refs(int64_t n) {
  std::vector<object_ref<int64_t>> result;
  for (int64_t i = 0; i < n; ++i)
    result.emplace_back(put(i));
  return result;
}

int64_t chain(int64_t depth) {
  if (depth == 0)
    return 0;
  return get(task(chain).remote(depth - 1)) + 1;
}

int64_t fib_task(int64_t n) {
  if (n < 2)
    return n;
  auto a = task(fib_task).remote(n - 1);
  auto b = task(fib_task).remote(n - 2);
  return get(a) + get(b);
}

} // namespace

CARAWAY_REMOTE(add, concat, bump, sum_refs, count_refs, make_refs, chain,
               fib_task)
CARAWAY_REMOTE(CARAWAY_FUNC(overloaded, int64_t),
               CARAWAY_FUNC(overloaded, std::string))

TEST_CASE("a task returns its result through an object_ref") {
  auto s = init(test::small_cluster());
  auto r = task(add).remote(40, 2);
  CHECK(get(r) == 42);
}

TEST_CASE("const& and && parameters take values") {
  auto s = init(test::small_cluster());
  CHECK(get(task(concat).remote(std::string{"ab"}, std::string{"cd"}))
        == "abcd");
}

TEST_CASE("overloads are registered through an explicit signature") {
  auto s = init(test::small_cluster());
  CHECK(get(task(CARAWAY_FUNC(overloaded, int64_t)).remote(4)) == 40);
  CHECK(get(task(CARAWAY_FUNC(overloaded, std::string)).remote("hi"))
        == "hi!");
}

TEST_CASE("a void task completes and get returns once it ran") {
  auto s = init(test::small_cluster());
  side_effects = 0;
  auto r = task(bump).remote(5);
  get(r);
  CHECK(side_effects == 5);
}

TEST_CASE("an object_ref argument is resolved to its value before the run") {
  auto s = init(test::small_cluster());
  auto x = task(add).remote(1, 2);
  auto y = put(int64_t{10});
  CHECK(get(task(add).remote(x, y)) == 13);
}

TEST_CASE("refs nested inside a value arrive as refs") {
  auto s = init(test::small_cluster());
  std::vector<object_ref<int64_t>> refs;
  for (int64_t i = 1; i <= 4; ++i)
    refs.emplace_back(put(i));
  CHECK(get(task(sum_refs).remote(refs)) == 10);
  CHECK(get(task(count_refs).remote(refs)) == 4);
}

TEST_CASE("a task may return refs it created") {
  auto s = init(test::small_cluster());
  auto refs = get(task(make_refs).remote(3));
  REQUIRE(refs.size() == 3);
  CHECK(get(refs[2]) == 2);
}

TEST_CASE("a task whose inline arguments exceed a message fails at submit") {
  auto cfg = test::small_cluster();
  cfg.max_message_bytes = 200 * 1024;
  auto s = init(cfg);
  // Each below the inline threshold (100 KiB), together above the limit.
  std::string part(90 * 1024, 'x');
  CHECK_THROWS_WITH_AS(caraway::task(concat).remote(part, std::string{part}),
                       doctest::Contains("max-message-bytes"),
                       invalid_argument_error);
  CHECK(get(caraway::task(concat).remote(std::string{"a"}, std::string{"b"}))
        == "ab");
}

TEST_CASE("calling an unregistered function names it") {
  auto s = init(test::small_cluster());
  try {
    task(caraway_test_not_registered).remote(1);
    FAIL("expected a registration_error");
  } catch (const registration_error& e) {
    CHECK(std::string{e.what()}.find("caraway_test_not_registered")
          != std::string::npos);
  }
}

TEST_CASE("calling a function by a name no process registered fails at get") {
  auto s = init(test::small_cluster());
  auto r = task<int64_t(int64_t)>("no_such_function").remote(1);
  try {
    get(r);
    FAIL("expected a registration_error");
  } catch (const registration_error& e) {
    CHECK(std::string{e.what()}.find("no_such_function")
          != std::string::npos);
  }
}

TEST_CASE("nested fib(15) with blocking gets finishes on two CPUs") {
  auto s = init(test::small_cluster(2));
  CHECK(get(task(fib_task).remote(15)) == 610);
}

TEST_CASE("a chain of blocked tasks deeper than the CPUs finishes") {
  auto s = init(test::small_cluster(1));
  CHECK(get(task(chain).remote(16)) == 16);
}
