#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

#include "caraway/detail/core.hpp"
#include "owner/core_worker.hpp"
#include "current_core.hpp"
#include "test_session.hpp"
#include "wait_until.hpp"

using namespace caraway;
using namespace std::chrono_literals;

namespace {

// Returns `value` once the gate opens (at once for `gated == 0`).
std::atomic<bool> gate_open{false};

int64_t gated_value(int64_t gated, int64_t value) {
  if (gated != 0 && !test::wait_until([] { return gate_open.load(); }))
    throw std::runtime_error("the gate never opened");
  return value;
}

std::vector<double> gated_vector(int64_t gated) {
  gated_value(gated, 0);
  return std::vector<double>(3, 1.5);
}

// Holds its argument until `release_hold` runs.
std::atomic<bool> hold_released{false};

int64_t hold_then_size(std::vector<double> data) {
  if (!test::wait_until([] { return hold_released.load(); }))
    throw std::runtime_error("never released");
  return static_cast<int64_t>(data.size());
}

int64_t wait_for_flag() {
  if (!test::wait_until([] { return hold_released.load(); }))
    throw std::runtime_error("never released");
  return 1;
}

constexpr size_t large_elems = 256 * 1024; // 2 MiB of doubles

} // namespace

CARAWAY_REMOTE(gated_value, gated_vector, hold_then_size, wait_for_flag)

TEST_CASE("put and get return the value") {
  auto s = init(test::small_cluster());
  auto r = put(std::string{"hello"});
  CHECK(get(r) == "hello");
  CHECK(get(put(int64_t{7})) == 7);
}

TEST_CASE("small values stay inline, large ones go to the object store") {
  auto s = init(test::small_cluster());
  auto before = object_store_stats().objects;
  auto small = put(std::vector<double>(100, 1.0));
  CHECK(object_store_stats().objects == before);
  auto large = put(std::vector<double>(large_elems, 2.0));
  CHECK(object_store_stats().objects == before + 1);
  CHECK(get(large).size() == large_elems);
  CHECK(get(small).size() == 100);
}

TEST_CASE("getting a large object twice shares the stored bytes") {
  // A get decodes straight from the store's buffer: the one copy is the
  // decode into the caller's value.
  auto s = init(test::small_cluster());
  auto r = put(std::vector<double>(large_elems, 3.0));
  auto a = detail::get_value(r.id(), detail::infinite_timeout);
  auto b = detail::get_value(r.id(), detail::infinite_timeout);
  CHECK(a.get() == b.get());
  CHECK(get(r)[large_elems - 1] == 3.0);
}

namespace {

struct point {
  float x;
  float y;
  int32_t tag;
};

enum class color : uint8_t { red, green };

} // namespace

static_assert(detail::view_of<std::vector<point>>::ok);
static_assert(detail::view_of<std::vector<color>>::ok);
static_assert(!detail::view_of<std::vector<bool>>::ok);
static_assert(!detail::view_of<std::vector<std::string>>::ok);
static_assert(!detail::view_of<int64_t>::ok);

TEST_CASE("get_view reads a stored vector or string in place") {
  auto s = init(test::small_cluster());
  SUBCASE("a large vector: the view is the store's memory") {
    std::vector<double> data(large_elems);
    for (size_t i = 0; i < data.size(); ++i)
      data[i] = static_cast<double>(i) * 0.5;
    auto r = put(data);
    auto view = get_view(r);
    CHECK(view.size() == large_elems);
    CHECK(view[7] == 3.5);
    CHECK(std::equal(view.begin(), view.end(), data.begin(), data.end()));
    auto stored = detail::get_value(r.id(), detail::infinite_timeout);
    CHECK(reinterpret_cast<const char*>(view.data())
          == stored->data() + sizeof(uint64_t));
    CHECK(reinterpret_cast<uintptr_t>(view.data()) % alignof(double) == 0);
  }
  SUBCASE("the view keeps the object alive after its ref is gone") {
    auto before = object_store_stats().objects;
    array_view<double> view;
    {
      auto r = put(std::vector<double>(large_elems, 4.0));
      view = get_view(r);
    }
    CHECK(object_store_stats().objects == before);
    CHECK(view.size() == large_elems);
    CHECK(view[large_elems - 1] == 4.0);
  }
  SUBCASE("small values, structs, enums and strings") {
    auto points = get_view(put(std::vector<point>{{1, 2, 3}, {4, 5, 6}}));
    REQUIRE(points.size() == 2);
    CHECK(points[1].y == 5);
    CHECK(points[1].tag == 6);
    CHECK(get(put(std::vector<point>{{7, 8, 9}}))[0].tag == 9);
    auto colors = get_view(put(std::vector<color>{color::green}));
    CHECK(colors[0] == color::green);
    auto text = get_view(put(std::string{"in place"}));
    CHECK(text.str() == "in place");
    CHECK(get_view(put(std::vector<int32_t>{})).empty());
  }
  SUBCASE("a result of a task that has not finished times out") {
    gate_open = false;
    auto r = task(gated_vector).remote(1);
    CHECK_THROWS_AS(get_view(r, 50ms), timeout_error);
    gate_open = true;
    CHECK(get_view(r).size() == 3);
  }
}

TEST_CASE("get with a timeout throws timeout_error") {
  auto s = init(test::small_cluster());
  gate_open = false;
  auto r = task(gated_value).remote(1, 1);
  CHECK_THROWS_AS(get(r, 50ms), timeout_error);
  gate_open = true;
  CHECK(get(r) == 1);
}

TEST_CASE("get of many refs returns values in order") {
  auto s = init(test::small_cluster());
  std::vector<object_ref<int64_t>> refs;
  for (int64_t i = 0; i < 20; ++i)
    refs.emplace_back(task(gated_value).remote(0, i));
  auto values = get(refs);
  REQUIRE(values.size() == 20);
  for (int64_t i = 0; i < 20; ++i)
    CHECK(values[i] == i);
}

TEST_CASE("as_completed yields refs as they complete and counts them") {
  auto s = init(test::small_cluster());
  gate_open = false;
  std::vector<object_ref<int64_t>> refs;
  refs.emplace_back(task(gated_value).remote(1, 10));
  refs.emplace_back(put(int64_t{20}));
  refs.emplace_back(task(gated_value).remote(0, 30));
  std::ostringstream out;
  std::vector<int64_t> seen;
  for (auto& r : as_completed(refs, progress{"t", out, false})) {
    seen.push_back(get(r, 10s));
    // The gated task completes only after the others came.
    if (seen.size() == 2)
      gate_open = true;
  }
  REQUIRE(seen.size() == 3);
  CHECK(seen[2] == 10);
  CHECK(((seen[0] == 20 && seen[1] == 30) || (seen[0] == 30 && seen[1] == 20)));
  // The last line, once all came.
  CHECK(out.str().find("t 3/3 [####################] 100%")
        != std::string::npos);
  // Nothing to wait for: no iteration.
  size_t n = 0;
  for (auto& r : as_completed(std::vector<object_ref<int64_t>>{})) {
    (void) r;
    ++n;
  }
  CHECK(n == 0);
}

TEST_CASE("wait returns ready and pending refs in submission order") {
  auto s = init(test::small_cluster());
  gate_open = false;
  std::vector<object_ref<int64_t>> refs;
  refs.emplace_back(task(gated_value).remote(1, 0));
  refs.emplace_back(put(int64_t{1}));
  refs.emplace_back(put(int64_t{2}));
  refs.emplace_back(task(gated_value).remote(1, 3));
  struct opener {
    ~opener() {
      gate_open = true;
    }
  } open_at_end;
  SUBCASE("num_returns reached") {
    auto w = wait(refs, 2, 10s);
    REQUIRE(w.ready.size() == 2);
    REQUIRE(w.pending.size() == 2);
    CHECK(w.ready[0] == refs[1]);
    CHECK(w.ready[1] == refs[2]);
    CHECK(w.pending[0] == refs[0]);
    CHECK(w.pending[1] == refs[3]);
  }
  SUBCASE("timeout passes first") {
    auto w = wait(refs, 3, 100ms);
    CHECK(w.ready.size() == 2);
    CHECK(w.pending.size() == 2);
  }
  SUBCASE("at most num_returns come back ready") {
    auto w = wait(refs, 1, 10s);
    REQUIRE(w.ready.size() == 1);
    CHECK(w.ready[0] == refs[1]);
    CHECK(w.pending.size() == 3);
  }
}

TEST_CASE("the store's memory returns to its baseline after 1000 puts") {
  auto s = init(test::small_cluster());
  auto baseline = object_store_stats();
  for (int i = 0; i < 1000; ++i) {
    auto r = put(std::vector<double>(large_elems / 2, i));
    CHECK(object_store_stats().used_bytes > baseline.used_bytes);
  }
  auto after = object_store_stats();
  CHECK(after.used_bytes == baseline.used_bytes);
  CHECK(after.objects == baseline.objects);
}

TEST_CASE("a pending task keeps its argument alive after the ref is gone") {
  auto s = init(test::small_cluster());
  hold_released = false;
  auto baseline = object_store_stats().objects;
  object_ref<int64_t> result;
  {
    auto data = put(std::vector<double>(large_elems, 1.0));
    result = task(hold_then_size).remote(data);
  }
  CHECK(object_store_stats().objects == baseline + 1);
  hold_released = true;
  CHECK(get(result) == static_cast<int64_t>(large_elems));
  CHECK(object_store_stats().objects == baseline);
}

TEST_CASE("an object holding refs keeps them alive") {
  auto s = init(test::small_cluster());
  auto baseline = object_store_stats().objects;
  object_ref<std::vector<object_ref<std::vector<double>>>> outer;
  {
    std::vector<object_ref<std::vector<double>>> inner;
    inner.emplace_back(put(std::vector<double>(large_elems, 5.0)));
    outer = put(inner);
  }
  CHECK(object_store_stats().objects == baseline + 1);
  auto inner = get(outer);
  REQUIRE(inner.size() == 1);
  CHECK(get(inner[0])[0] == 5.0);
  inner.clear();
  outer = {};
  CHECK(object_store_stats().objects == baseline);
}

TEST_CASE("a put larger than the object store fails with a clear error") {
  auto cfg = test::small_cluster();
  cfg.object_store_memory = uint64_t{4} << 20;
  auto s = init(cfg);
  CHECK_THROWS_AS(put(std::vector<double>(1 << 20, 1.0)),
                  object_store_full_error);
  // The store still serves objects that fit.
  CHECK(get(put(std::vector<double>(large_elems, 1.0))).size()
        == large_elems);
}

TEST_CASE("shutdown wakes a get that waits forever") {
  auto s = init(test::small_cluster(1));
  // Needs a resource no node has, so it never runs.
  auto r = task(gated_value).resources({{"unobtainium", 1}}).remote(0, 1);
  auto& core = core::require_core();
  bool was_waiting = false;
  std::thread stopper{[&] {
    // Shut down only once the get below waits in the memory store.
    was_waiting
      = test::wait_until([&] { return core.waiting_threads() == 1; });
    s.shutdown();
  }};
  try {
    get(r);
    FAIL("get returned a value of a task that cannot run");
  } catch (const error& e) {
    CHECK(std::string{e.what()}.find("shut down") != std::string::npos);
  }
  stopper.join();
  CHECK(was_waiting);
  CHECK_FALSE(is_initialized());
}
