// The owner's memory store: values, errors and the threads waiting for them.

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <thread>

#include "owner/memory_store.hpp"

using namespace caraway;
using namespace std::chrono_literals;
using owner::memory_store;

namespace {

const wire::object_id a{1, 1};
const wire::object_id b{1, 2};

memory_store::clock::time_point in(std::chrono::milliseconds ms) {
  return memory_store::clock::now() + ms;
}

} // namespace

TEST_CASE("memory_store completes a pending object once") {
  memory_store ms;
  ms.add_pending(a);
  CHECK(ms.pending(a));
  CHECK(ms.lookup(a).st == memory_store::state::pending);
  CHECK(ms.complete(a, wire::make_buffer("x", 1), false));
  CHECK_FALSE(ms.complete(a, wire::make_buffer("y", 1), false));
  CHECK_FALSE(ms.fail(a, {wire::error_kind::task_failed, "", "late"}));
  auto snap = ms.lookup(a);
  CHECK(snap.known);
  CHECK(snap.st == memory_store::state::ready);
  REQUIRE(snap.value);
  CHECK(std::string(snap.value->data(), snap.value->size()) == "x");
  CHECK_FALSE(ms.complete(b, nullptr, false)); // unknown
  CHECK_FALSE(ms.lookup(b).known);
}

TEST_CASE("memory_store keeps where a remote value is, and a pulled copy") {
  memory_store ms;
  ms.add_pending(a);
  CHECK(ms.complete(a, nullptr, true, "127.0.0.1:9"));
  auto snap = ms.lookup(a);
  CHECK_FALSE(snap.value);
  CHECK(snap.location == "127.0.0.1:9");
  ms.cache(a, wire::make_buffer("z", 1));
  CHECK(ms.lookup(a).value);
}

TEST_CASE("memory_store reopens a lost object to be made again") {
  memory_store ms;
  CHECK_FALSE(ms.reopen(a)); // unknown
  ms.add_pending(a);
  CHECK_FALSE(ms.reopen(a)); // pending already
  CHECK(ms.complete(a, nullptr, true, "127.0.0.1:9"));
  CHECK(ms.reopen(a));
  auto snap = ms.lookup(a);
  CHECK(snap.st == memory_store::state::pending);
  CHECK(snap.location.empty());
  auto now = memory_store::clock::now();
  CHECK_FALSE(ms.wait({a}, 1, &now)[0]);
  // Made again elsewhere.
  CHECK(ms.complete(a, nullptr, true, "127.0.0.1:10"));
  CHECK(ms.lookup(a).location == "127.0.0.1:10");
  CHECK(ms.reopen(a));
  CHECK(ms.fail(a, {wire::error_kind::object_lost, "", "lost"}));
  CHECK(ms.lookup(a).error.message == "lost");
}

TEST_CASE("memory_store wait returns at once for settled objects") {
  memory_store ms;
  ms.put(a, wire::make_buffer("x", 1), false);
  ms.add_failed(b, {wire::error_kind::object_lost, "", "gone"});
  auto ready = ms.wait({a, b}, 2, nullptr);
  CHECK(ready == std::vector<bool>{true, true});
  CHECK(ms.lookup(b).error.kind == wire::error_kind::object_lost);
}

TEST_CASE("memory_store wait honours its deadline") {
  memory_store ms;
  ms.add_pending(a);
  auto deadline = in(20ms);
  auto ready = ms.wait({a}, 1, &deadline);
  CHECK(ready == std::vector<bool>{false});
  CHECK(memory_store::clock::now() >= deadline);
}

TEST_CASE("memory_store wakes a waiter when an object settles") {
  memory_store ms;
  ms.add_pending(a);
  ms.add_pending(b);
  bool blocked = false;
  bool unblocked = false;
  auto waiter = std::async(std::launch::async, [&] {
    auto deadline = in(10000ms);
    return ms.wait(
      {a, b}, 1, &deadline, [&] { blocked = true; }, [&] { unblocked = true; });
  });
  SUBCASE("by completion") {
    // Completing before the waiter registers is fine too: either way it
    // must see the object ready.
    ms.complete(b, wire::make_buffer("x", 1), false);
    CHECK(waiter.get() == std::vector<bool>{false, true});
  }
  SUBCASE("by failure") {
    ms.fail(a, {wire::error_kind::task_failed, "", "boom"});
    CHECK(waiter.get() == std::vector<bool>{true, false});
  }
  SUBCASE("by erasure") {
    ms.erase(a);
    CHECK(waiter.get() == std::vector<bool>{true, false});
  }
  CHECK(blocked == unblocked);
}

TEST_CASE("memory_store wakes a waiter for n objects once n settled") {
  const wire::object_id c{1, 3};
  memory_store ms;
  for (auto& id : {a, b, c})
    ms.add_pending(id);
  auto waiter = std::async(std::launch::async, [&] {
    auto deadline = in(10000ms);
    return ms.wait({a, b, c}, 2, &deadline, {}, {});
  });
  // One of two (settled before or after the waiter registered): it waits on.
  ms.complete(a, wire::make_buffer("x", 1), false);
  CHECK(waiter.wait_for(50ms) == std::future_status::timeout);
  ms.fail(c, {wire::error_kind::task_failed, "", "boom"});
  CHECK(waiter.get() == std::vector<bool>{true, false, true});
}

TEST_CASE("memory_store shutdown wakes waiters and ends later waits") {
  memory_store ms;
  ms.add_pending(a);
  std::promise<void> registered;
  auto waiter = std::async(std::launch::async, [&] {
    return ms.wait({a}, 1, nullptr, [&] { registered.set_value(); });
  });
  // on_block runs once the waiter is registered and about to sleep.
  REQUIRE(registered.get_future().wait_for(10s) == std::future_status::ready);
  ms.shutdown();
  REQUIRE(waiter.wait_for(10s) == std::future_status::ready);
  CHECK(waiter.get() == std::vector<bool>{false});
  CHECK(ms.stopped());
  CHECK(ms.wait({a}, 1, nullptr) == std::vector<bool>{false});
}

TEST_CASE("memory_store erase hands the value back and forgets the object") {
  memory_store ms;
  ms.put(a, wire::make_buffer("x", 1), false);
  auto value = ms.erase(a);
  REQUIRE(value);
  CHECK(value->size() == 1);
  CHECK_FALSE(ms.lookup(a).known);
  CHECK(ms.size() == 0);
  CHECK_FALSE(ms.erase(a));
}
