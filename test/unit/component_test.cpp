// Component logic tested directly on the state structs, without messaging.

#include <doctest/doctest.h>

#include <caf/all.hpp>

#include "caraway/detail/registry.hpp"
#include "caraway/node/gcs.hpp"
#include "caraway/node/raylet.hpp"
#include "caraway/node/store_memory.hpp"
#include "caraway/wire/bridge.hpp"
#include "fake_owner.hpp"

using namespace caraway;

TEST_CASE("raylet_state grants, lends out and returns resources") {
  node::raylet_state st;
  st.info.total = {{"CPU", 2}, {"ssd", 1}};
  st.info.available = st.info.total;
  CHECK(st.fits({{"CPU", 2}}));
  CHECK_FALSE(st.fits({{"CPU", 3}}));
  CHECK_FALSE(st.fits({{"gpu", 1}}));
  CHECK(st.feasible({{"CPU", 0.5}, {"ssd", 1}}));
  CHECK_FALSE(st.feasible({{"ssd", 2}}));
  st.acquire({{"CPU", 1.5}});
  st.leases[7].held = {{"CPU", 1.5}};
  CHECK_FALSE(st.fits({{"CPU", 1}}));
  SUBCASE("a blocked lease lends its CPUs and takes them back") {
    CHECK(st.block(7));
    CHECK_FALSE(st.block(7));
    CHECK(st.fits({{"CPU", 2}}));
    CHECK(st.unblock(7));
    CHECK(st.info.available.at("CPU") == doctest::Approx(0.5));
  }
  SUBCASE("finishing a lease returns its resources once") {
    st.finish(7);
    st.finish(7);
    CHECK(st.info.available.at("CPU") == doctest::Approx(2));
  }
}

namespace {

node::lease_request lease_req(uint64_t worker, uint32_t depth = 0) {
  node::lease_request req;
  req.worker = worker;
  req.depth = depth;
  return req;
}

} // namespace

TEST_CASE("raylet_state queues deeper lease requests first, then in order") {
  node::raylet_state st;
  st.info.total = {{"CPU", 1}};
  wire::resource_set one{{"CPU", 1}};
  CHECK(st.enqueue(one, lease_req(1)));
  CHECK(st.enqueue(one, lease_req(2, 3)));
  CHECK(st.enqueue(one, lease_req(3)));
  auto& q = st.queues.at(one);
  std::vector<uint64_t> order;
  for (auto& kvp : q)
    order.push_back(kvp.second.worker);
  CHECK(order == std::vector<uint64_t>{2, 1, 3});
  CHECK_FALSE(st.enqueue({{"CPU", 4}}, lease_req(4)));
  CHECK(st.infeasible.size() == 1);
  CHECK(st.pending() == 4);
}

TEST_CASE("raylet_state drops the requests and leases of an owner that is "
          "gone") {
  node::raylet_state st;
  st.info.total = {{"CPU", 2}};
  st.info.available = st.info.total;
  st.enqueue({{"CPU", 1}}, lease_req(7));
  st.enqueue({{"CPU", 1}}, lease_req(8));
  st.enqueue({{"CPU", 0.5}}, lease_req(7));
  st.enqueue({{"CPU", 4}}, lease_req(7)); // infeasible here
  wire::actor_spec owned, detached, other;
  owned.id = {7, 4};
  detached.id = {7, 5};
  detached.detached = true;
  other.id = {8, 2};
  for (auto* a : {&owned, &detached, &other})
    st.pending_actors.push_back(*a);
  // A lease the gone owner holds, and one another owner holds.
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto exec = [&] {
    return caf::actor_cast<wire::executor_actor>(
      sys.spawn([]() -> caf::behavior { return {[](int) {}}; }));
  };
  for (uint64_t worker : {7, 8}) {
    st.acquire({{"CPU", 1}});
    auto& l = st.leases[worker * 10];
    l.held = {{"CPU", 1}};
    l.executor = exec();
    l.worker = worker;
  }
  CHECK(st.pending() == 7);
  size_t actors = 0;
  size_t leases = 0;
  auto dropped = st.drop_work_of(7, actors, leases);
  CHECK(dropped.size() == 3);
  CHECK(actors == 1);
  CHECK(leases == 1);
  // Left: the other owner's request, lease and actor, and the detached
  // actor; the gone owner's CPU is free and its executor idle.
  CHECK(st.queued == 1);
  CHECK(st.infeasible.empty());
  REQUIRE(st.pending_actors.size() == 2);
  CHECK(st.pending_actors[0].id == detached.id);
  CHECK(st.queues.begin()->second.begin()->second.worker == 8);
  CHECK(st.leases.count(80) == 1);
  CHECK(st.leases.count(70) == 0);
  CHECK(st.idle.size() == 1);
  CHECK(st.info.available.at("CPU") == doctest::Approx(1));
  CHECK(st.drop_work_of(7, actors, leases).empty());
  for (auto& [id, l] : st.leases)
    caf::anon_send_exit(l.executor, caf::exit_reason::user_shutdown);
  for (auto& e : st.idle)
    caf::anon_send_exit(e, caf::exit_reason::user_shutdown);
}

TEST_CASE("raylet_state packs work here, then spreads it to the least used "
          "node") {
  node::raylet_state st;
  st.info.id = {1, 1};
  st.info.total = {{"CPU", 4}};
  st.info.available = st.info.total;
  wire::resource_set one{{"CPU", 1}};
  wire::node_info b;
  b.id = {2, 2};
  b.total = {{"CPU", 4}};
  b.available = {{"CPU", 3}};
  wire::node_info c = b;
  c.id = {3, 3};
  c.available = {{"CPU", 1}};
  st.merge_view({b, c});
  using where = node::raylet_state::placement;
  node::lease_request req;
  // Used below half: here.
  CHECK(st.place(one, req, false).kind == where::here);
  st.acquire({{"CPU", 2}});
  // Half used: the least used node with room, b (a quarter used).
  auto p = st.place(one, req, false);
  CHECK(p.kind == where::there);
  CHECK(p.node == b.id);
  // Each owner sent there counts until the next view: b fills up.
  st.sent_to(b.id, one);
  st.sent_to(b.id, one);
  CHECK(st.place(one, req, false).kind == where::here); // half used here, 3/4 on b
  st.sent_to(b.id, one);
  st.acquire({{"CPU", 2}});
  // No room anywhere but c.
  p = st.place(one, req, false);
  CHECK(p.kind == where::there);
  CHECK(p.node == c.id);
  st.sent_to(c.id, one);
  // No room anywhere: wait here, where it fits some day.
  CHECK(st.place(one, req, false).kind == where::here);
  // A request sent here by another node is not sent on again.
  st.release({{"CPU", 3}});
  CHECK(st.place(one, req, true).kind == where::here);
  // What only another node has goes there, even when busy; what nobody has
  // has nowhere to go.
  b.total["tpu"] = 1;
  st.merge_view({b});
  p = st.place({{"tpu", 1}}, req, true);
  CHECK(p.kind == where::there);
  CHECK(p.node == b.id);
  CHECK(st.place({{"gpu", 1}}, req, false).kind == where::nowhere);
  // Its next row replaces what was counted; so does time: what this raylet
  // sent counts for `sent_hold` at most.
  st.sent_to(c.id, one);
  st.merge_view({c});
  CHECK(st.room_of(c.id, st.view.at(c.id)).at("CPU") == doctest::Approx(1));
  st.sent_hold = std::chrono::milliseconds(0);
  st.sent_to(c.id, one);
  CHECK(st.room_of(c.id, st.view.at(c.id)).at("CPU") == doctest::Approx(1));
  // A dead node leaves the view.
  b.alive = false;
  st.merge_view({b});
  CHECK(st.view.count(b.id) == 0);
  CHECK(st.place({{"tpu", 1}}, req, false).kind == where::nowhere);
}

TEST_CASE("raylet_state keeps a task whose arguments are here while it has "
          "room") {
  node::raylet_state st;
  st.info.id = {1, 1};
  st.info.total = {{"CPU", 4}};
  st.info.available = {{"CPU", 1}};
  wire::node_info b;
  b.id = {2, 2};
  b.total = {{"CPU", 4}};
  b.available = b.total;
  st.merge_view({b});
  using where = node::raylet_state::placement;
  wire::resource_set one{{"CPU", 1}};
  node::lease_request plain;
  node::lease_request near = plain;
  near.affinity_node = st.info.id;
  // Three quarters used: a plain request goes to b, one over data here
  // stays.
  CHECK(st.place(one, plain, false).kind == where::there);
  CHECK(st.place(one, near, false).kind == where::here);
  // Data on another node does not hold it here.
  node::lease_request far = plain;
  far.affinity_node = b.id;
  CHECK(st.place(one, far, false).kind == where::there);
  // Full: the least used node with room, as for any request.
  st.acquire(one);
  auto p = st.place(one, near, false);
  CHECK(p.kind == where::there);
  CHECK(p.node == b.id);
}

TEST_CASE("raylet_state spreads round robin and keeps node affinities") {
  node::raylet_state st;
  st.info.id = {2, 2};
  st.info.total = {{"CPU", 4}};
  st.info.available = st.info.total;
  wire::node_info a, c;
  a.id = {1, 1};
  c.id = {3, 3};
  for (auto* n : {&a, &c})
    n->total = n->available = {{"CPU", 4}};
  st.merge_view({a, c});
  wire::resource_set one{{"CPU", 1}};
  using where = node::raylet_state::placement;
  node::lease_request spread;
  spread.strategy = wire::strategy::spread;
  // Round robin over every node with room, this one included.
  std::vector<wire::unique_id> order;
  for (int i = 0; i < 4; ++i) {
    auto p = st.place(one, spread, false);
    order.push_back(p.kind == where::here ? st.info.id : p.node);
  }
  CHECK(order == std::vector<wire::unique_id>{{1, 1}, {2, 2}, {3, 3}, {1, 1}});
  node::lease_request pin;
  pin.strategy = wire::strategy::node_affinity;
  pin.affinity_node = c.id;
  // Busy or not, the named node; this node when it is named.
  st.sent_to(c.id, {{"CPU", 4}});
  auto p = st.place(one, pin, false);
  CHECK(p.kind == where::there);
  CHECK(p.node == c.id);
  pin.affinity_node = st.info.id;
  CHECK(st.place(one, pin, false).kind == where::here);
  // A node that cannot run it, or is unknown: refused when hard...
  CHECK(st.place({{"CPU", 8}}, pin, false).kind == where::refused);
  pin.affinity_node = {9, 9};
  p = st.place(one, pin, false);
  CHECK(p.kind == where::refused);
  CHECK(p.why.find("dead or unknown") != std::string::npos);
  // ...placed as any other task when soft.
  pin.affinity_soft = true;
  CHECK(st.place(one, pin, false).kind == where::here);
}

TEST_CASE("resource_set utilization is the most used resource asked for") {
  wire::resource_set total{{"CPU", 4}, {"GPU", 2}};
  wire::resource_set avail{{"CPU", 3}, {"GPU", 0}};
  CHECK(wire::resource_set{{"CPU", 1}}.utilization(total, avail)
        == doctest::Approx(0.25));
  CHECK(wire::resource_set{{"CPU", 1}, {"GPU", 1}}.utilization(total, avail)
        == doctest::Approx(1));
  CHECK(wire::resource_set{}.utilization(total, avail)
        == doctest::Approx(0.25));
  CHECK(wire::resource_set{{"ssd", 1}}.utilization(total, avail)
        == doctest::Approx(0));
}

TEST_CASE("store_memory caps live bytes and reuses freed buffers") {
  auto mem_ptr = node::make_store_memory(1 << 20, 1 << 20);
  auto& mem = *mem_ptr;
  auto a = mem.allocate(600 * 1024);
  REQUIRE(a);
  CHECK(mem.allocate(600 * 1024) == nullptr);
  auto* first = a->data();
  wire::object_id id{1, 1};
  mem.seal(id, a);
  CHECK(mem.get(id) == a);
  mem.release(id);
  a.reset();
  auto st = mem.get_stats();
  CHECK(st.used_bytes == 0);
  CHECK(st.pooled_bytes == 600 * 1024);
  auto b = mem.allocate(500 * 1024);
  REQUIRE(b);
  CHECK(b->data() == first);
  CHECK(mem.get_stats().pooled_bytes == 0);
}

TEST_CASE("gcs_state keeps names unique per namespace until death") {
  node::gcs_state st;
  wire::actor_spec x;
  x.id = {1, 1};
  x.name = "n";
  x.ns = "a";
  CHECK(st.add_actor(x));
  auto y = x;
  y.id = {1, 2};
  CHECK_FALSE(st.add_actor(y));
  y.ns = "b";
  CHECK(st.add_actor(y));
  CHECK(st.find_named("a", "n") != nullptr);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  st.actors[x.id].info.host = sys.spawn(
    []() -> wire::actor_host_actor::behavior_type {
      return {[](wire::create_atom) {}, [](wire::call_atom, wire::task_spec&) {},
              [](wire::kill_atom) {}};
    });
  CHECK(st.mark_dead(x.id, {wire::error_kind::actor_died, "", "gone"}));
  // The dead actor's host handle is dropped, so its thread can end.
  CHECK_FALSE(st.actors[x.id].info.host);
  CHECK_FALSE(st.mark_dead(x.id, {}));
  CHECK(st.find_named("a", "n") == nullptr);
  auto z = x;
  z.id = {1, 3};
  CHECK(st.add_actor(z));
}

TEST_CASE("gcs_state finds actors by id, dead ones included") {
  node::gcs_state st;
  wire::actor_spec x;
  x.id = {2, 1};
  x.class_name = "counter";
  CHECK(st.add_actor(x));
  REQUIRE(st.find(x.id) != nullptr);
  CHECK(st.find(x.id)->info.class_name == "counter");
  CHECK(st.find(x.id)->info.state == wire::actor_state::pending);
  CHECK(st.mark_dead(x.id, {wire::error_kind::actor_died, "", "killed"}));
  REQUIRE(st.find(x.id) != nullptr);
  CHECK(st.find(x.id)->info.state == wire::actor_state::dead);
  CHECK(st.find(x.id)->info.death.message == "killed");
  CHECK(st.find({2, 2}) == nullptr);
}

TEST_CASE("gcs_state: actors die with their owner unless detached") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto owner_log = std::make_shared<test::owner_log>();
  auto driver = sys.spawn(test::fake_owner, owner_log);
  auto other = sys.spawn(test::fake_owner, owner_log);
  node::gcs_state st;
  auto make = [&](wire::actor_id id, const wire::owner_actor& owner,
                  bool detached) {
    wire::actor_spec spec;
    spec.id = id;
    spec.owner = owner;
    spec.detached = detached;
    REQUIRE(st.add_actor(spec));
  };
  make({3, 1}, driver, false);
  make({3, 2}, driver, true);
  make({3, 3}, other, false);
  make({3, 4}, driver, false);
  st.mark_dead({3, 4}, {});
  CHECK(st.owned_by(driver.address())
        == std::vector<wire::actor_id>{{3, 1}});
  CHECK(st.owned_by(other.address())
        == std::vector<wire::actor_id>{{3, 3}});
  caf::anon_send_exit(driver, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
}

TEST_CASE("records cross processes through their Protobuf form") {
  caf::actor_system_config cfg;
  wire::add_message_types(cfg);
  caf::actor_system sys{cfg};
  wire::task_spec spec;
  spec.id = {0x1234, 42};
  spec.actor = {7, 8};
  spec.function = "fib";
  spec.depth = 3;
  spec.max_retries = 2;
  spec.resources = {{"CPU", 1}, {"ssd", 0.5}};
  wire::task_arg arg;
  arg.value = wire::make_buffer("abc", 3);
  spec.args.push_back(arg);
  wire::task_arg ref;
  ref.is_ref = true;
  ref.ref = {9, 10};
  spec.args.push_back(ref);
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  REQUIRE_FALSE(sink(spec));
  wire::task_spec copy;
  caf::binary_deserializer source{sys, bytes};
  REQUIRE_FALSE(source(copy));
  CHECK(copy.id == spec.id);
  CHECK(copy.actor == spec.actor);
  CHECK(copy.function == "fib");
  CHECK(copy.depth == 3);
  CHECK(copy.max_retries == 2);
  CHECK(copy.resources == spec.resources);
  REQUIRE(copy.args.size() == 2);
  CHECK(std::string(copy.args[0].value->data(), 3) == "abc");
  CHECK(copy.args[1].is_ref);
  CHECK(copy.args[1].ref == wire::object_id{9, 10});
  CHECK_FALSE(copy.args[1].value);
}

TEST_CASE("a task table row survives the wire") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  wire::task_info info;
  info.id = {3, 4};
  info.function = "fib";
  info.state = wire::task_state::failed;
  info.node = {5, 6};
  info.error = "boom";
  info.submitted_ns = 1;
  info.scheduled_ns = 2;
  info.ended_ns = 3;
  info.attempts = 2;
  info.started_ns = 4;
  info.ran_until_ns = 5;
  info.pid = 4321;
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  REQUIRE_FALSE(sink(info));
  wire::task_info copy;
  caf::binary_deserializer source{sys, bytes};
  REQUIRE_FALSE(source(copy));
  CHECK(copy.id == info.id);
  CHECK(copy.function == "fib");
  CHECK(copy.state == wire::task_state::failed);
  CHECK(copy.node == info.node);
  CHECK(copy.error == "boom");
  CHECK(copy.submitted_ns == 1);
  CHECK(copy.scheduled_ns == 2);
  CHECK(copy.ended_ns == 3);
  CHECK(copy.attempts == 2);
  CHECK(copy.started_ns == 4);
  CHECK(copy.ran_until_ns == 5);
  CHECK(copy.pid == 4321);
}

TEST_CASE("a worker process' row survives the wire") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  wire::worker_info info;
  info.pid = 1234;
  info.job = 7;
  info.alive = true;
  info.log = "/s/logs/worker-7-1234";
  info.out_bytes = 10;
  info.err_bytes = 20;
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  REQUIRE_FALSE(sink(info));
  wire::worker_info copy;
  caf::binary_deserializer source{sys, bytes};
  REQUIRE_FALSE(source(copy));
  CHECK(copy.pid == 1234);
  CHECK(copy.job == 7);
  CHECK(copy.alive);
  CHECK(copy.log == info.log);
  CHECK(copy.out_bytes == 10);
  CHECK(copy.err_bytes == 20);
}

TEST_CASE("text that is not UTF-8 survives the wire") {
  // An exception's message, a name or a path is whatever bytes the user's
  // code made: Latin-1 here.
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::string latin1 = "na\xefve \xe9t\xe9";
  wire::error_info err;
  err.type_name = latin1;
  err.message = latin1;
  wire::task_info info;
  info.id = {3, 4};
  info.function = latin1;
  info.error = latin1;
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  REQUIRE_FALSE(sink(err, info));
  wire::error_info err_copy;
  wire::task_info info_copy;
  caf::binary_deserializer source{sys, bytes};
  REQUIRE_FALSE(source(err_copy, info_copy));
  CHECK(err_copy.message == latin1);
  CHECK(err_copy.type_name == latin1);
  CHECK(info_copy.function == latin1);
  CHECK(info_copy.error == latin1);
}

TEST_CASE("a truncated record is rejected, not misread") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  wire::actor_info info;
  info.name = "tracker";
  std::vector<char> bytes;
  caf::binary_serializer sink{sys, bytes};
  REQUIRE_FALSE(sink(info));
  bytes.resize(bytes.size() / 2);
  wire::actor_info copy;
  caf::binary_deserializer source{sys, bytes};
  CHECK(source(copy));
}

TEST_CASE("registration names come from the macro's text") {
  auto names = detail::split_names(
    "fib, CARAWAY_FUNC(add, int, int), &counter::increment, "
    "caraway::ctor<int, std::map<int, int>>");
  REQUIRE(names.size() == 4);
  CHECK(names[0] == "fib");
  CHECK(names[1] == "add(int, int)");
  CHECK(names[2] == "increment");
}

TEST_CASE("ids survive their byte form") {
  wire::unique_id id{0x0102030405060708ull, 0xa0b0c0d0e0f00010ull};
  CHECK(wire::from_bytes(wire::to_bytes(id)) == id);
  CHECK(wire::to_string(id) == "0102030405060708a0b0c0d0e0f00010");
  CHECK(wire::from_bytes("short").nil());
}
