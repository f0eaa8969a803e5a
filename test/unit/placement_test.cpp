// Where placement group bundles go (the gcs' pure part), and a raylet's
// bundles: reserved, usable under their own names, given back.

#include <doctest/doctest.h>

#include <set>

#include "caraway/node/placement.hpp"
#include "caraway/node/raylet.hpp"

using namespace caraway;
using wire::placement_strategy;

namespace {

const wire::unique_id a{1, 1};
const wire::unique_id b{2, 2};
const wire::unique_id c{3, 3};

std::vector<node::node_room> rooms(double ca, double cb, double cc) {
  return {{a, {{"CPU", ca}}}, {b, {{"CPU", cb}}}, {c, {{"CPU", cc}}}};
}

const wire::resource_set one{{"CPU", 1}};

size_t distinct(const std::vector<wire::unique_id>& xs) {
  return std::set<wire::unique_id>(xs.begin(), xs.end()).size();
}

// A raylet's state with 2 CPUs, all free.
node::raylet_state two_cpu_node() {
  node::raylet_state st;
  st.info.id = a;
  st.info.total = {{"CPU", 2}};
  st.info.available = st.info.total;
  return st;
}

} // namespace

TEST_CASE("place_bundles packs onto one node when it can") {
  std::string why;
  auto nodes = node::place_bundles(placement_strategy::pack, {one, one},
                                   rooms(1, 4, 2), why);
  CHECK(nodes == std::vector<wire::unique_id>{b, b});
  // No node has room for all: as few as the greedy pass finds.
  nodes = node::place_bundles(placement_strategy::pack, {one, one, one},
                              rooms(1, 2, 0), why);
  REQUIRE(nodes.size() == 3);
  CHECK(distinct(nodes) == 2);
  // strict pack: one node or nothing.
  CHECK(node::place_bundles(placement_strategy::strict_pack, {one, one, one},
                            rooms(1, 2, 2), why)
          .empty());
  CHECK(why.find("together") != std::string::npos);
}

TEST_CASE("place_bundles spreads over distinct nodes") {
  std::string why;
  auto nodes = node::place_bundles(placement_strategy::spread, {one, one, one},
                                   rooms(2, 2, 2), why);
  CHECK(distinct(nodes) == 3);
  // More bundles than nodes: spread reuses nodes, strict spread fails.
  nodes = node::place_bundles(placement_strategy::spread,
                              {one, one, one, one}, rooms(2, 2, 2), why);
  CHECK(nodes.size() == 4);
  CHECK(distinct(nodes) == 3);
  CHECK(node::place_bundles(placement_strategy::strict_spread,
                            {one, one, one, one}, rooms(2, 2, 2), why)
          .empty());
  CHECK(why.find("STRICT_SPREAD needs 4 nodes") != std::string::npos);
  // Room counts: a node without it takes no bundle.
  CHECK(node::place_bundles(placement_strategy::strict_spread,
                            {one, one, one}, rooms(2, 0, 2), why)
          .empty());
  CHECK(node::place_bundles(placement_strategy::pack, {{{"GPU", 1}}},
                            rooms(2, 2, 2), why)
          .empty());
}

TEST_CASE("place_bundles places lost bundles around those kept") {
  std::string why;
  using ids = std::vector<wire::unique_id>;
  const wire::unique_id none;
  // Node c died with bundle 1: strict spread keeps a and b, and needs a
  // node neither uses; pack goes where the group is.
  auto rooms_without_c = std::vector<node::node_room>{{a, {{"CPU", 2}}},
                                                      {b, {{"CPU", 2}}}};
  CHECK(node::place_bundles(placement_strategy::strict_spread, {one, one, one},
                            rooms_without_c, why, {a, none, b})
          .empty());
  auto four = rooms_without_c;
  four.push_back({{4, 4}, {{"CPU", 1}}});
  CHECK(node::place_bundles(placement_strategy::strict_spread, {one, one, one},
                            four, why, {a, none, b})
        == ids{a, {4, 4}, b});
  // Pack prefers the group's node even with more room elsewhere.
  CHECK(node::place_bundles(placement_strategy::pack, {one, one},
                            rooms(1, 2, 2), why, {a, none})
        == ids{a, a});
  CHECK(node::place_bundles(placement_strategy::strict_pack, {one, one},
                            rooms(0, 2, 2), why, {a, none})
          .empty());
  // Spread avoids the kept node while another has room.
  CHECK(node::place_bundles(placement_strategy::spread, {one, one},
                            rooms(2, 1, 0), why, {a, none})
        == ids{a, b});
  // A kept node the gcs no longer lists (dead) is no reason to fail.
  CHECK(node::place_bundles(placement_strategy::pack, {one, one},
                            rooms_without_c, why, {c, none})
          .size()
        == 2);
}

TEST_CASE("group_table refuses a taken name until the group is removed") {
  node::group_table t;
  wire::placement_group_info x;
  x.id = a;
  x.name = "pg";
  x.bundles = {one};
  CHECK(t.add(x, {}));
  auto y = x;
  y.id = b;
  CHECK_FALSE(t.add(y, {}));
  CHECK(t.find_named("", "pg")->info.id == a);
  CHECK(t.waiting() == std::vector<wire::unique_id>{a});
  bool found = t.remove(a);
  CHECK(found);
  found = t.remove(a);
  CHECK_FALSE(found);
  CHECK(t.find_named("", "pg") == nullptr);
  CHECK(t.add(y, {}));
  CHECK(t.find(a)->info.state == wire::placement_group_state::removed);
}

TEST_CASE("raylet_state reserves bundles, then lends them to the group") {
  auto st = two_cpu_node();
  const wire::unique_id g{9, 9};
  CHECK(st.prepare_bundle(g, 0, one));
  CHECK(st.prepare_bundle(g, 0, one)); // again: no more taken
  CHECK(st.info.available.at("CPU") == doctest::Approx(1));
  CHECK_FALSE(st.prepare_bundle(g, 1, {{"CPU", 2}}));
  // Reserved only: the group's tasks cannot run yet.
  auto in_bundle = wire::bundle_shape(one, g, 0);
  auto in_any = wire::bundle_shape(one, g, -1);
  CHECK_FALSE(st.feasible(in_bundle));
  CHECK(st.commit_bundle(g, 0));
  CHECK_FALSE(st.commit_bundle(g, 1));
  CHECK(st.fits(in_bundle));
  CHECK(st.fits(in_any));
  CHECK_FALSE(st.fits(wire::bundle_shape(one, g, 1)));
  CHECK_FALSE(st.fits(wire::bundle_shape({{"CPU", 2}}, g, 0)));
  // A task in the bundle takes its CPU, not the node's.
  st.acquire(in_bundle);
  CHECK(st.info.available.at("CPU") == doctest::Approx(1));
  CHECK_FALSE(st.fits(in_any));
  // Given back: the names go, the CPU returns; the task's release later
  // adds nothing back.
  CHECK(st.free_bundle(g, 0));
  CHECK_FALSE(st.free_bundle(g, 0));
  CHECK(st.info.available.at("CPU") == doctest::Approx(2));
  st.release(in_bundle);
  CHECK_FALSE(st.feasible(in_bundle));
  CHECK(st.info.total.size() == 1);
  CHECK(st.info.available.size() == 1);
}

TEST_CASE("group_of names the group a bundle shape draws on") {
  const wire::unique_id g{0xabc, 0x123};
  CHECK(wire::group_of(wire::bundle_shape(one, g, 0)) == g);
  CHECK(wire::group_of(wire::bundle_shape(one, g, -1)) == g);
  CHECK(wire::group_of(wire::bundle_shape({}, g, 3)) == g);
  CHECK(wire::group_of(one).nil());
  CHECK(wire::group_of({{"bundle_group_junk", 1}}).nil());
}

TEST_CASE("raylet_state ends a removed group's work and refuses it after") {
  auto st = two_cpu_node();
  const wire::unique_id g{9, 9};
  const wire::unique_id other{8, 8};
  REQUIRE(st.prepare_bundle(g, 0, one));
  REQUIRE(st.commit_bundle(g, 0));
  // Waiting: one request the bundle can run, one it never can, one outside
  // the group, and an actor of the group.
  CHECK(st.enqueue(wire::bundle_shape(one, g, 0), {}));
  CHECK_FALSE(st.enqueue(wire::bundle_shape(one, g, 1), {}));
  CHECK(st.enqueue(one, {}));
  CHECK_FALSE(st.enqueue(wire::bundle_shape(one, other, 0), {}));
  wire::actor_spec actor;
  actor.resources = wire::bundle_shape(one, g, 0);
  st.pending_actors.push_back(actor);
  CHECK(st.waiting_groups() == std::set<wire::unique_id>{g, other});
  size_t actors = 0;
  auto dropped = st.remove_group(g, actors);
  CHECK(dropped.size() == 2);
  CHECK(actors == 1);
  CHECK(st.pending() == 2); // the request outside and the other group's
  CHECK(st.waiting_groups() == std::set<wire::unique_id>{other});
  // Its bundle went back, and it gets none again.
  CHECK(st.bundles.empty());
  CHECK(st.info.available.at("CPU") == doctest::Approx(2));
  CHECK(st.group_removed(g));
  CHECK_FALSE(st.prepare_bundle(g, 1, one));
  CHECK_FALSE(st.group_removed(other));
  // Only the most recent removals are kept.
  st.removed_groups_kept = 2;
  st.remove_group({7, 1}, actors);
  st.remove_group({7, 2}, actors);
  CHECK_FALSE(st.group_removed(g));
  CHECK(st.group_removed({7, 2}));
}

TEST_CASE("group_table takes groups back after a restart of the head") {
  node::group_table t;
  wire::placement_group_info x;
  x.id = {5, 1};
  x.name = "pg";
  x.bundles = {one, one};
  x.nodes = {a, b};
  x.state = wire::placement_group_state::created;
  t.put(x);
  CHECK(t.find_named("", "pg") != nullptr);
  CHECK(t.waiting().empty());
  using bundle = std::pair<wire::unique_id, uint32_t>;
  CHECK(t.bundles_on(a) == std::vector<bundle>{{x.id, 0}});
  CHECK(t.bundles_on(c).empty());
  // No owner until its process is back; found by its ids meanwhile.
  caf::actor_addr none;
  CHECK(t.owned_by(none, 5) == std::vector<wire::unique_id>{x.id});
  CHECK(t.owned_by(none, 6).empty());
  CHECK(t.owned_by(none, 0).empty());
  // A later row of the same group replaces it.
  x.state = wire::placement_group_state::rescheduling;
  x.name = "renamed";
  x.nodes = {{}, b}; // bundle 0 lost, bundle 1 kept
  t.put(x);
  CHECK(t.find_named("", "pg") == nullptr);
  CHECK(t.waiting() == std::vector<wire::unique_id>{x.id});
  CHECK(t.bundles_on(a).empty());
  CHECK(t.bundles_on(b) == std::vector<bundle>{{x.id, 1}});
  t.erase(x.id);
  CHECK(t.find(x.id) == nullptr);
  CHECK(t.find_named("", "renamed") == nullptr);
}
