// Placement groups through the public API, on an embedded cluster.

#include <doctest/doctest.h>

#include <thread>

#include "test_session.hpp"

using namespace caraway;
using namespace std::chrono_literals;

namespace {

std::string where_i_run() {
  return node_id();
}

class group_member {
public:
  int64_t add(int64_t x) {
    return total_ += x;
  }

private:
  int64_t total_ = 0;
};

} // namespace

CARAWAY_REMOTE(where_i_run)
CARAWAY_ACTOR(group_member, caraway::ctor<>, &group_member::add)

TEST_CASE("a placement group reserves its bundles; tasks run in them") {
  auto s = init(test::small_cluster(2));
  auto pg = placement_group({{{"CPU", 1}}}, strategy::pack).name("pg").remote();
  REQUIRE(pg.wait(10s));
  CHECK(pg.state() == placement_group_state::created);
  CHECK(pg.name() == "pg");
  CHECK(pg.placement_strategy() == strategy::pack);
  REQUIRE(pg.bundles().size() == 1);
  CHECK(pg.bundles()[0].at("CPU") == 1);
  CHECK(pg.bundle_nodes() == std::vector<std::string>{node_id()});
  object_ref<void> ready = pg.ready();
  CHECK_NOTHROW(get(ready, 10s));
  // The bundle's CPU is set aside: one of two is left for everyone else.
  CHECK(available_resources()["CPU"] == doctest::Approx(1));
  // Tasks in the bundle, and in any bundle.
  CHECK(get(task(where_i_run).placement_group(pg, 0).remote(), 10s)
        == node_id());
  CHECK(get(task(where_i_run).placement_group(pg).remote(), 10s) == node_id());
  // Found by name; a second group of that name is refused.
  CHECK(get_placement_group("pg") == pg);
  CHECK_THROWS_AS(placement_group({{{"CPU", 1}}}).name("pg").remote(),
                  invalid_argument_error);
  auto listed = placement_groups();
  REQUIRE(listed.size() == 1);
  CHECK(listed[0] == pg);
  // A bundle the group does not have.
  CHECK_THROWS_AS(task(where_i_run).placement_group(pg, 1),
                  invalid_argument_error);
  remove_placement_group(pg);
  CHECK(pg.state() == placement_group_state::removed);
  CHECK_THROWS_AS(get_placement_group("pg"), invalid_argument_error);
  // The CPU is back.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (available_resources()["CPU"] < 2
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  CHECK(available_resources()["CPU"] == doctest::Approx(2));
}

TEST_CASE("a placement group that cannot be placed stays pending") {
  auto s = init(test::small_cluster(2));
  // Two bundles on two nodes: one node has them both only together.
  auto spread = placement_group({{{"CPU", 1}}, {{"CPU", 1}}},
                                strategy::strict_spread)
                  .remote();
  auto packed = placement_group({{{"CPU", 2}}, {{"CPU", 1}}},
                                strategy::strict_pack)
                  .remote();
  CHECK_FALSE(spread.wait(300ms));
  CHECK(spread.state() == placement_group_state::pending);
  CHECK(packed.state() == placement_group_state::pending);
  // A task in a pending group waits.
  auto in_group = task(where_i_run).placement_group(spread, 0).remote();
  std::vector<object_ref<std::string>> refs{in_group};
  CHECK(wait(refs, 1, 100ms).ready.empty());
  cancel(in_group);
  // Nothing is held meanwhile.
  CHECK(available_resources()["CPU"] == doctest::Approx(2));
  CHECK_THROWS_AS(placement_group({}).remote(), invalid_argument_error);
  CHECK_THROWS_AS(placement_group({{{"CPU", 0}}}).remote(),
                  invalid_argument_error);
}

TEST_CASE("a pending placement group is created once there is room") {
  auto s = init(test::small_cluster(2));
  auto first = placement_group({{{"CPU", 2}}}).remote();
  REQUIRE(first.wait(10s));
  auto second = placement_group({{{"CPU", 1}}}).remote();
  CHECK_FALSE(second.wait(200ms));
  remove_placement_group(first);
  CHECK(second.wait(10s));
  CHECK(second.state() == placement_group_state::created);
}

namespace {

// A group of one 1-CPU bundle on a 2-CPU node, an actor holding the
// bundle's CPU, and a task of the bundle waiting for it.
struct busy_bundle {
  session s = init(test::small_cluster(2));
  placement_group_handle pg = placement_group({{{"CPU", 1}}}).remote();
  actor_handle<group_member> a;
  object_ref<std::string> waiting;

  busy_bundle() {
    REQUIRE(pg.wait(10s));
    a = actor<group_member>().num_cpus(1).placement_group(pg, 0).remote();
    CHECK(get(a.task(&group_member::add).remote(int64_t{2}), 10s) == 2);
    waiting = task(where_i_run).placement_group(pg, 0).remote();
    std::vector<object_ref<std::string>> refs{waiting};
    CHECK(wait(refs, 1, 100ms).ready.empty());
  }
};

} // namespace

TEST_CASE_FIXTURE(busy_bundle,
                  "an actor in a bundle holds the bundle's resources") {
  // A task outside the bundle runs on the node's other CPU.
  CHECK(get(task(where_i_run).remote(), 10s) == node_id());
  cancel(waiting);
  // An actor asking for more than its bundle has never starts.
  auto big = actor<group_member>().num_cpus(2).placement_group(pg, 0).remote();
  CHECK_THROWS_AS(get(big.task(&group_member::add).remote(int64_t{1}), 200ms),
                  timeout_error);
}

TEST_CASE_FIXTURE(busy_bundle,
                  "removing a placement group ends the work waiting for it") {
  remove_placement_group(pg);
  CHECK_THROWS_WITH_AS(get(waiting, 10s), doctest::Contains("was removed"),
                       unschedulable_error);
  CHECK_FALSE(pg.wait(10s));
  CHECK_THROWS_AS(get(pg.ready(), 10s), unschedulable_error);
  CHECK_THROWS_WITH_AS(get(a.task(&group_member::add).remote(int64_t{1}), 10s),
                       doctest::Contains("was removed"), actor_died_error);
  // Work asking for it afterwards fails at once.
  CHECK_THROWS_WITH_AS(get(task(where_i_run).placement_group(pg).remote(), 10s),
                       doctest::Contains("was removed"), unschedulable_error);
  CHECK_THROWS_WITH_AS(
    actor<group_member>().placement_group(pg, 0).remote(),
    doctest::Contains("was removed"), unschedulable_error);
  // Everything it held is back.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (available_resources()["CPU"] < 2
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  CHECK(available_resources()["CPU"] == doctest::Approx(2));
}
