#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_session.hpp"
#include "wait_until.hpp"

using namespace caraway;
using namespace std::chrono_literals;

namespace {

class counter {
public:
  counter() = default;

  explicit counter(int64_t start) : value_(start) {
  }

  int64_t increment() {
    return ++value_;
  }

  int64_t add(int64_t n) {
    value_ += n;
    return value_;
  }

  int64_t value() const {
    return value_;
  }

  // Records the order in which calls arrive.
  std::vector<int64_t> log(int64_t x) {
    log_.push_back(x);
    return log_;
  }

private:
  int64_t value_ = 0;
  std::vector<int64_t> log_;
};

class fragile {
public:
  explicit fragile(std::string why) {
    throw std::invalid_argument(why);
  }

  int64_t poke() {
    return 1;
  }
};

// Keeps refs it got in its constructor and reads them later.
class keeper {
public:
  explicit keeper(std::vector<object_ref<int64_t>> refs)
    : refs_(std::move(refs)) {
  }

  int64_t read() {
    return get(refs_.at(0));
  }

private:
  std::vector<object_ref<int64_t>> refs_;
};

// Two calls meet here: each waits until both have started, so the pair
// completes only if they run at the same time.
class rendezvous {
public:
  int64_t meet() {
    arrived_ += 1;
    return test::wait_until([this] { return arrived_ >= 2; }, 5s) ? 1 : 0;
  }

private:
  std::atomic<int64_t> arrived_{0};
};

int64_t bump_counter(actor_handle<counter> c, int64_t n) {
  return get(c.task(&counter::add).remote(n));
}

actor_handle<counter> spawn_counter(int64_t start) {
  return actor<counter>(start).remote();
}

int64_t square(int64_t x) {
  return x * x;
}

// Submits tasks from inside an actor and waits for them.
class coordinator {
public:
  int64_t sum_of_squares(int64_t n) {
    std::vector<object_ref<int64_t>> refs;
    for (int64_t i = 1; i <= n; ++i)
      refs.emplace_back(task(square).remote(i));
    int64_t result = 0;
    for (auto x : get(refs))
      result += x;
    return result;
  }

  // Calls another actor through a handle it was given.
  int64_t bump_via(actor_handle<counter> c, int64_t n) {
    return get(c.task(&counter::add).remote(n));
  }

  int64_t use_child(int64_t start) {
    auto child = actor<counter>(start).remote();
    return get(child.task(&counter::increment).remote());
  }
};

// Counts, and knows whether it is a restart (as its constructor saw too).
class phoenix {
public:
  phoenix() : born_restarted_(was_restarted()) {
  }

  int64_t add(int64_t n) {
    return total_ += n;
  }

  bool restarted() const {
    return born_restarted_ && was_restarted();
  }

private:
  bool born_restarted_;
  int64_t total_ = 0;
};

std::string namespace_seen() {
  return get_namespace();
}

// actor -> task -> task, repeated: every level blocks in get.
int64_t nest_task(int64_t depth);

class nest_actor {
public:
  int64_t run(int64_t depth) {
    return get(task(nest_task).remote(depth));
  }
};

int64_t nest_inner(int64_t depth) {
  if (depth == 0)
    return 0;
  auto a = actor<nest_actor>().remote();
  return get(a.task(&nest_actor::run).remote(depth - 1)) + 1;
}

int64_t nest_task(int64_t depth) {
  return get(task(nest_inner).remote(depth));
}

} // namespace

CARAWAY_ACTOR(counter, caraway::ctor<>, caraway::ctor<int64_t>,
              &counter::increment, &counter::add, &counter::value,
              &counter::log)
CARAWAY_ACTOR(fragile, caraway::ctor<std::string>, &fragile::poke)
CARAWAY_ACTOR(keeper, caraway::ctor<std::vector<object_ref<int64_t>>>,
              &keeper::read)
CARAWAY_ACTOR(rendezvous, caraway::ctor<>, &rendezvous::meet)
CARAWAY_ACTOR(coordinator, caraway::ctor<>, &coordinator::sum_of_squares,
              &coordinator::bump_via, &coordinator::use_child)
CARAWAY_ACTOR(nest_actor, caraway::ctor<>, &nest_actor::run)
CARAWAY_ACTOR(phoenix, caraway::ctor<>, &phoenix::add, &phoenix::restarted)
CARAWAY_REMOTE(bump_counter, spawn_counter, square, nest_task, nest_inner,
               namespace_seen)

TEST_CASE("an actor keeps its state between calls") {
  auto s = init(test::small_cluster());
  auto c = actor<counter>(int64_t{10}).remote();
  c.task(&counter::increment).remote();
  c.task(&counter::increment).remote();
  CHECK(get(c.task(&counter::value).remote()) == 12);
}

TEST_CASE("calls from one caller run in submission order") {
  auto s = init(test::small_cluster());
  auto c = actor<counter>().remote();
  // The first call waits for a slow argument; later ones must not overtake.
  auto slow = task(square).remote(3);
  c.task(&counter::log).remote(slow);
  object_ref<std::vector<int64_t>> last;
  for (int64_t i = 0; i < 50; ++i)
    last = c.task(&counter::log).remote(i);
  auto seen = get(last);
  REQUIRE(seen.size() == 51);
  CHECK(seen[0] == 9);
  for (int64_t i = 0; i < 50; ++i)
    CHECK(seen[i + 1] == i);
}

TEST_CASE("a handle passed to a task reaches the same actor") {
  auto s = init(test::small_cluster());
  auto c = actor<counter>().remote();
  std::vector<object_ref<int64_t>> refs;
  for (int64_t i = 0; i < 10; ++i)
    refs.emplace_back(task(bump_counter).remote(c, 1));
  get(refs);
  CHECK(get(c.task(&counter::value).remote()) == 10);
}

TEST_CASE("a handle passed to another actor reaches the same actor") {
  auto s = init(test::small_cluster());
  auto c = actor<counter>(int64_t{1}).remote();
  auto coord = actor<coordinator>().remote();
  CHECK(get(coord.task(&coordinator::bump_via).remote(c, 41)) == 42);
  CHECK(get(c.task(&counter::value).remote()) == 42);
}

TEST_CASE("a task may create an actor and return its handle") {
  auto s = init(test::small_cluster());
  auto c = get(task(spawn_counter).remote(100));
  CHECK(get(c.task(&counter::increment).remote()) == 101);
}

TEST_CASE("named actors are found by name within their namespace") {
  auto s = init(test::small_cluster());
  auto tracker = actor<counter>(int64_t{5}).name("tracker").remote();
  auto other = actor<counter>(int64_t{50}).name("tracker", "elsewhere")
                 .remote();
  auto found = get_actor<counter>("tracker");
  REQUIRE(found.has_value());
  CHECK(*found == tracker);
  CHECK(get(found->task(&counter::value).remote()) == 5);
  auto found_other = get_actor<counter>("tracker", "elsewhere");
  REQUIRE(found_other.has_value());
  CHECK(get(found_other->task(&counter::value).remote()) == 50);
  CHECK(*found_other == other);
  CHECK_FALSE(get_actor<counter>("nobody").has_value());
  CHECK_FALSE(get_actor<counter>("tracker", "third").has_value());
}

TEST_CASE("get_namespace names the session's namespace, in tasks too") {
  auto cfg = test::small_cluster();
  cfg.ns = "team";
  auto s = init(cfg);
  CHECK(get_namespace() == "team");
  CHECK(get(task(namespace_seen).remote(), 30s) == "team");
}

TEST_CASE("a taken name is rejected at remote()") {
  auto s = init(test::small_cluster());
  auto first = actor<counter>().name("unique").remote();
  CHECK(first.valid());
  CHECK_THROWS_AS(actor<counter>().name("unique").remote(),
                  invalid_argument_error);
}

TEST_CASE("a call to a killed actor fails with actor_died_error") {
  auto s = init(test::small_cluster());
  auto c = actor<counter>().name("doomed").remote();
  CHECK(get(c.task(&counter::increment).remote()) == 1);
  kill(c);
  CHECK_THROWS_AS(get(c.task(&counter::increment).remote()),
                  actor_died_error);
  CHECK_FALSE(get_actor<counter>("doomed").has_value());
}

TEST_CASE("an actor with restarts left is made again, state reset") {
  auto s = init(test::small_cluster());
  auto p = actor<phoenix>()
             .name("phoenix")
             .max_restarts(1)
             .max_task_retries(1)
             .remote();
  CHECK(get(p.task(&phoenix::add).remote(int64_t{5}), 30s) == 5);
  CHECK_FALSE(get(p.task(&phoenix::restarted).remote(), 30s));
  CHECK_FALSE(was_restarted()); // not in an actor
  kill(p, /*no_restart=*/false);
  // A call sent to the old instance meanwhile is sent again (its one
  // retry); later ones wait for the new instance.
  CHECK(get(p.task(&phoenix::add).remote(int64_t{7}), 30s) == 7);
  CHECK(get(p.task(&phoenix::restarted).remote(), 30s));
  // Its name stays; the next failure is its last.
  CHECK(get_actor<phoenix>("phoenix").has_value());
  kill(p, /*no_restart=*/false);
  try {
    get(p.task(&phoenix::add).remote(int64_t{1}), 30s);
    FAIL("a call to an actor without restarts left succeeded");
  } catch (const actor_died_error& e) {
    CHECK(std::string{e.what()}.find("no restarts left") != std::string::npos);
  }
  CHECK_FALSE(get_actor<phoenix>("phoenix").has_value());
  CHECK_THROWS_AS(actor<phoenix>().max_restarts(-2), invalid_argument_error);
  CHECK_THROWS_AS(actor<phoenix>().max_task_retries(-2),
                  invalid_argument_error);
}

TEST_CASE("kill without restart ends an actor that has restarts left") {
  auto s = init(test::small_cluster());
  auto p = actor<phoenix>().max_restarts(-1).remote();
  CHECK(get(p.task(&phoenix::add).remote(int64_t{1}), 30s) == 1);
  kill(p);
  CHECK_THROWS_AS(get(p.task(&phoenix::add).remote(int64_t{1}), 30s),
                  actor_died_error);
}

TEST_CASE("a handle to an actor no process created fails its calls") {
  auto s = init(test::small_cluster());
  // What a task gets for a handle whose id the gcs does not know.
  actor_handle<counter> stranger{wire::actor_id{7, 7}};
  std::string what;
  try {
    get(stranger.task(&counter::increment).remote(), 10s);
  } catch (const actor_died_error& e) {
    what = e.what();
  }
  CHECK(what.find("the cluster never created it") != std::string::npos);
}

TEST_CASE("an actor whose constructor threw fails its calls") {
  auto s = init(test::small_cluster());
  auto f = actor<fragile>(std::string{"no config"}).remote();
  try {
    get(f.task(&fragile::poke).remote());
    FAIL("expected actor_died_error");
  } catch (const actor_died_error& e) {
    CHECK(std::string{e.what()}.find("no config") != std::string::npos);
  }
}

TEST_CASE("refs in constructor arguments live until the actor has them") {
  auto s = init(test::small_cluster());
  actor_handle<keeper> k;
  {
    auto inner = put(int64_t{42});
    std::vector<object_ref<int64_t>> refs{inner};
    auto outer = put(refs);
    k = actor<keeper>(outer).remote();
  }
  CHECK(get(k.task(&keeper::read).remote(), 10s) == 42);
}

TEST_CASE("constructor arguments must match a registered constructor") {
  auto s = init(test::small_cluster());
  CHECK_THROWS_AS(actor<counter>(std::string{"x"}).remote(),
                  invalid_argument_error);
}

TEST_CASE("max_concurrency lets calls of one actor run at once") {
  auto s = init(test::small_cluster());
  auto r = actor<rendezvous>().max_concurrency(2).remote();
  auto a = r.task(&rendezvous::meet).remote();
  auto b = r.task(&rendezvous::meet).remote();
  CHECK(get(a) == 1);
  CHECK(get(b) == 1);
}

TEST_CASE("an actor method may submit tasks and get their results") {
  auto s = init(test::small_cluster());
  auto c = actor<coordinator>().remote();
  CHECK(get(c.task(&coordinator::sum_of_squares).remote(10)) == 385);
  CHECK(get(c.task(&coordinator::use_child).remote(7)) == 8);
}

TEST_CASE("actor -> task -> task nesting 8 deep finishes on two CPUs") {
  auto s = init(test::small_cluster(2));
  CHECK(get(task(nest_task).remote(8), 60s) == 8);
}

TEST_CASE("an actor ends once the last handle to it is gone") {
  auto s = init(test::small_cluster());
  auto gone = [] { return !get_actor<counter>("short-lived").has_value(); };
  {
    auto a = actor<counter>().name("short-lived").remote();
    auto copy = a;
    CHECK(get(a.task(&counter::increment).remote()) == 1);
    { auto moved = std::move(a); }
    // A copy still holds it.
    CHECK(get(copy.task(&counter::increment).remote()) == 2);
    CHECK_FALSE(gone());
  }
  CHECK(test::wait_until(gone));
}

TEST_CASE("calls made before the last handle went are answered first") {
  auto s = init(test::small_cluster());
  object_ref<int64_t> last;
  {
    auto a = actor<counter>(int64_t{40}).name("last-words").remote();
    a.task(&counter::increment).remote();
    last = a.task(&counter::increment).remote();
  }
  CHECK(get(last, 10s) == 42);
  CHECK(test::wait_until(
    [] { return !get_actor<counter>("last-words").has_value(); }));
}

TEST_CASE("a handle in a task's arguments keeps the actor alive") {
  auto s = init(test::small_cluster());
  object_ref<int64_t> bumped;
  {
    auto c = actor<counter>(int64_t{10}).remote();
    bumped = task(bump_counter).remote(c, 5);
  }
  CHECK(get(bumped, 10s) == 15);
}

TEST_CASE("a detached actor outlives its handles") {
  auto s = init(test::small_cluster());
  {
    auto a = actor<counter>(int64_t{7}).name("lasting")
               .lifetime(caraway::detached).remote();
    CHECK(get(a.task(&counter::increment).remote()) == 8);
  }
  auto found = get_actor<counter>("lasting");
  REQUIRE(found.has_value());
  CHECK(get(found->task(&counter::value).remote()) == 8);
}
