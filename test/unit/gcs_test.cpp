// The gcs across restarts: its store on disk, its tables taken back, what a
// restored gcs does with processes that come back or do not, and the link
// through which processes reach it.

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <unistd.h>

#include "caraway/node/gcs.hpp"
#include "caraway/node/gcs_store.hpp"
#include "deterministic.hpp"
#include "fake_gcs.hpp"
#include "fake_owner.hpp"
#include "fake_raylet.hpp"
#include "gcs_client.hpp"

using namespace caraway;

namespace {

// A fresh directory under the system's temporary one, removed at the end.
struct temp_dir {
  std::string path;
  temp_dir() {
    auto tmpl = (std::filesystem::temp_directory_path()
                 / "caraway-gcs-test.XXXXXX")
                  .string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::remove((path + "/gcs.log").c_str());
    std::remove((path + "/gcs.snapshot").c_str());
    std::remove((path + "/gcs.snapshot.tmp").c_str());
    std::remove((path + "/gcs.lock").c_str());
    ::rmdir(path.c_str());
  }
};

wire::stored_node node_row(uint64_t id, bool alive = true) {
  wire::stored_node row;
  row.info.id = {1, id};
  row.info.address = "127.0.0.1:" + std::to_string(7000 + id);
  row.info.total = {{"CPU", 2}};
  row.info.alive = alive;
  return row;
}

wire::stored_actor actor_row(uint64_t owner, uint64_t seq, uint64_t node,
                             std::string name = {}) {
  wire::stored_actor row;
  row.spec.id = {owner, seq};
  row.spec.class_name = "tally";
  row.spec.name = name;
  row.spec.ns = "shared";
  row.info.id = row.spec.id;
  row.info.class_name = "tally";
  row.info.name = std::move(name);
  row.info.ns = "shared";
  row.info.state = wire::actor_state::alive;
  row.node = {1, node};
  return row;
}

// A placement group of owner `worker` with bundles on nodes 1 and 2.
wire::stored_group group_row(uint64_t worker, uint64_t seq,
                             wire::placement_group_state state) {
  wire::stored_group row;
  row.info.id = {worker, seq};
  row.info.name = "pg";
  row.info.bundles = {{{"CPU", 1}}, {{"CPU", 1}}};
  row.info.nodes = {{1, 1}, {1, 2}};
  row.info.strategy = wire::placement_strategy::strict_spread;
  row.info.state = state;
  return row;
}

} // namespace

TEST_CASE("the gcs store reads back what it wrote, later rows last") {
  temp_dir dir;
  {
    node::gcs_store store{dir.path};
    CHECK(store.take_loaded().empty());
    CHECK(store.append(node_row(1)));
    CHECK(store.append(wire::stored_job{1, "driver pid 7", 9, true, {"/x.so"}}));
    CHECK(store.append(wire::stored_owner{9, false}));
    CHECK(store.append(node_row(1, /*alive=*/false)));
    CHECK(store.append(group_row(9, 1, wire::placement_group_state::created)));
    CHECK(store.log_records() == 5);
  }
  node::gcs_store again{dir.path};
  auto rows = again.take_loaded();
  REQUIRE(rows.size() == 5);
  auto& group = std::get<wire::stored_group>(rows[4]).info;
  CHECK(group.id == wire::unique_id{9, 1});
  CHECK(group.name == "pg");
  CHECK(group.state == wire::placement_group_state::created);
  CHECK(group.nodes == std::vector<wire::unique_id>{{1, 1}, {1, 2}});
  CHECK(group.bundles.size() == 2);
  auto& job = std::get<wire::stored_job>(rows[1]);
  CHECK(job.driver == "driver pid 7");
  CHECK(job.owner == 9);
  CHECK(job.libraries == std::vector<std::string>{"/x.so"});
  CHECK(std::get<wire::stored_owner>(rows[2]).worker == 9);
  CHECK_FALSE(std::get<wire::stored_node>(rows[3]).info.alive);
}

TEST_CASE("one data dir serves one head at a time") {
  temp_dir dir;
  {
    node::gcs_store first{dir.path};
    CHECK_THROWS_WITH_AS(node::gcs_store{dir.path},
                         doctest::Contains("another head"),
                         std::runtime_error);
  }
  // Free again once the first is gone.
  CHECK_NOTHROW(node::gcs_store{dir.path});
}

TEST_CASE("a log cut short by a crash loses only its last record") {
  temp_dir dir;
  {
    node::gcs_store store{dir.path};
    store.append(node_row(1));
    store.append(node_row(2));
  }
  // Half a record at the end, as a crash in the middle of a write leaves.
  {
    std::ofstream log{dir.path + "/gcs.log", std::ios::app | std::ios::binary};
    log.write("\x40\x00\x00\x00partial", 11);
  }
  {
    node::gcs_store store{dir.path};
    CHECK(store.take_loaded().size() == 2);
    // The next record follows the last whole one, not the torn tail.
    store.append(node_row(3));
  }
  node::gcs_store again{dir.path};
  auto rows = again.take_loaded();
  REQUIRE(rows.size() == 3);
  CHECK(std::get<wire::stored_node>(rows[2]).info.id == wire::unique_id{1, 3});
}

TEST_CASE("compacting writes the snapshot and empties the log") {
  temp_dir dir;
  {
    node::gcs_store store{dir.path};
    for (uint64_t i = 1; i <= 5; ++i)
      store.append(node_row(i));
    CHECK(store.compact({node_row(4), node_row(5)}));
    CHECK(store.log_records() == 0);
    store.append(node_row(6));
  }
  node::gcs_store again{dir.path};
  auto rows = again.take_loaded();
  REQUIRE(rows.size() == 3);
  CHECK(std::get<wire::stored_node>(rows[0]).info.id == wire::unique_id{1, 4});
  CHECK(std::get<wire::stored_node>(rows[2]).info.id == wire::unique_id{1, 6});
  CHECK(again.log_records() == 1);
}

TEST_CASE("a restored gcs state waits for what was alive") {
  node::gcs_state st;
  auto dead_actor = actor_row(9, 3, 1, "gone");
  dead_actor.info.state = wire::actor_state::dead;
  st.restore({node_row(1), node_row(2, /*alive=*/false),
              actor_row(9, 1, 1, "keeper"), actor_row(9, 2, 1), dead_actor,
              wire::stored_job{4, "driver pid 7", 9, true, {}},
              wire::stored_owner{9, false}, wire::stored_owner{8, false},
              wire::stored_owner{8, true}});
  REQUIRE(st.nodes.size() == 2);
  CHECK(st.nodes[0].rejoining);
  CHECK_FALSE(st.nodes[0].raylet);
  CHECK_FALSE(st.nodes[1].rejoining); // dead before the restart
  auto keeper = st.find_named("shared", "keeper");
  REQUIRE(keeper != nullptr);
  // Callers queue their calls until the host announces itself again.
  CHECK(keeper->info.state == wire::actor_state::restarting);
  CHECK(keeper->awaiting_host);
  CHECK(st.find_named("shared", "gone") == nullptr);
  CHECK(st.next_job == 5);
  CHECK(st.awaited_owners == std::set<uint64_t>{9});
  // Its rows keep the state they had: alive.
  auto rows = st.rows();
  bool saw_keeper = false;
  for (auto& row : rows)
    if (auto a = std::get_if<wire::stored_actor>(&row);
        a && a->info.name == "keeper") {
      saw_keeper = true;
      CHECK(a->info.state == wire::actor_state::alive);
    }
  CHECK(saw_keeper);
}

namespace {

struct restored_gcs : test::deterministic_fixture {
  temp_dir dir;
  std::shared_ptr<test::raylet_log> raylet_log
    = std::make_shared<test::raylet_log>();
  wire::raylet_actor raylet = sys.spawn(test::fake_raylet, raylet_log);
  wire::gcs_actor gcs;

  // A gcs that restarts on rows written by the one before: nodes 1 and 2
  // alive, on node 1 a detached named actor, on node 2 one that may not
  // restart; a running job of owner 9.
  restored_gcs() {
    {
      node::gcs_store store{dir.path};
      auto keeper = actor_row(9, 1, 1, "keeper");
      keeper.spec.detached = true;
      // A placement group of owner 9 over both nodes, and one removed.
      for (auto& row : std::vector<wire::gcs_record>{
             node_row(1), node_row(2), keeper, actor_row(9, 2, 2),
             wire::stored_job{4, "driver pid 7", 9, true, {}},
             wire::stored_owner{9, false},
             group_row(9, 7, wire::placement_group_state::pending),
             group_row(9, 7, wire::placement_group_state::created),
             group_row(9, 8, wire::placement_group_state::created),
             group_row(9, 8, wire::placement_group_state::removed)})
        store.append(row);
    }
    node::gcs_config cfg;
    cfg.store = std::make_shared<node::gcs_store>(dir.path);
    cfg.rejoin_timeout = std::chrono::seconds(10);
    gcs = sys.spawn(node::gcs, cfg);
    run();
  }

  ~restored_gcs() {
    caf::anon_send_exit(gcs, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(raylet, caf::exit_reason::user_shutdown);
    run();
  }

  template <class T, class... Ts>
  std::optional<T> ask(Ts... xs) {
    auto result = std::make_shared<std::optional<T>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(gcs, caf::infinite, xs...)
        .then([=](T& x) { *result = std::move(x); },
              [=](caf::error&) { /* stays empty */ });
    });
    run();
    return *result;
  }

  std::optional<bool> rejoin(uint64_t node) {
    return ask<bool>(wire::rejoin_atom::value, node_row(node).info, raylet);
  }

  wire::placement_group_info group(uint64_t seq) {
    return ask<wire::placement_group_info>(wire::group_atom::value,
                                           wire::lookup_atom::value,
                                           wire::unique_id{9, seq})
      .value_or(wire::placement_group_info{});
  }

  wire::actor_info lookup(uint64_t seq) {
    return ask<wire::actor_info>(wire::lookup_atom::value,
                                 wire::actor_id{9, seq})
      .value_or(wire::actor_info{});
  }
};

wire::actor_host_actor::behavior_type quiet_host() {
  return {
    [](wire::create_atom) {},
    [](wire::call_atom, wire::task_spec&) {},
    [](wire::kill_atom) {},
  };
}

} // namespace

TEST_CASE_FIXTURE(restored_gcs,
                  "a restarted gcs takes back the nodes it knew and fences "
                  "the rest") {
  CHECK(rejoin(1) == std::optional<bool>{true});
  CHECK(rejoin(3) == std::optional<bool>{false}); // never known
  // The placement group is back as it was; node 1 keeps its bundle (and
  // gives back any other); the removed group is gone.
  CHECK(group(7).state == wire::placement_group_state::created);
  CHECK(group(8).id.nil());
  using bundle = std::pair<wire::unique_id, uint32_t>;
  CHECK(raylet_log->kept
        == std::optional<std::vector<bundle>>{{{{9, 7}, 0}}});
  // The named actor's host announces itself again: it is alive as before.
  auto host = sys.spawn(quiet_host);
  caf::anon_send(gcs, wire::alive_atom::value, wire::actor_id{9, 1},
                 wire::actor_host_actor{host}, std::string{}, int32_t{77});
  run();
  CHECK(lookup(1).state == wire::actor_state::alive);
  CHECK(lookup(1).pid == 77);
  CHECK(lookup(2).state == wire::actor_state::restarting);
  // The time to come back ends: node 2 and its actor did not come back, nor
  // did the job's driver.
  trigger_timeouts();
  auto nodes = ask<std::vector<wire::node_info>>(wire::nodes_atom::value);
  REQUIRE(nodes.has_value());
  REQUIRE(nodes->size() == 2);
  CHECK(nodes->at(0).alive);
  CHECK_FALSE(nodes->at(1).alive);
  CHECK(rejoin(2) == std::optional<bool>{false}); // too late: fenced
  CHECK(lookup(1).state == wire::actor_state::alive); // detached
  auto lost = lookup(2);
  CHECK(lost.state == wire::actor_state::dead);
  auto jobs = ask<std::map<uint64_t, std::string>>(wire::jobs_atom::value);
  REQUIRE(jobs.has_value());
  CHECK(jobs->at(4) == "driver pid 7 finished");
  // The owner that did not come back has its objects freed on the node,
  // and its placement group is removed (node 1 hears it).
  CHECK(raylet_log->freed == std::vector<uint64_t>{9});
  CHECK(group(7).state == wire::placement_group_state::removed);
  CHECK(raylet_log->removed_groups
        == std::vector<wire::unique_id>{{9, 7}});
  caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(test::deterministic_fixture,
                  "the link to the head forwards messages as they are and "
                  "answers go straight back") {
  auto log = std::make_shared<test::gcs_log>();
  wire::actor_info listed;
  listed.id = {1, 2};
  log->actors.push_back(listed);
  wire::gcs_actor upstream = sys.spawn(test::fake_gcs, log);
  runtime::gcs_client_config cfg;
  cfg.host = "127.0.0.1";
  cfg.port = 1;
  auto link = runtime::spawn_gcs_client(sys, upstream, cfg);
  wire::node_info info;
  info.id = {1, 1};
  caf::anon_send(link, wire::report_atom::value, info);
  auto answered = std::make_shared<std::optional<wire::unique_id>>();
  sys.spawn([=](caf::event_based_actor* self) {
    self->request(link, caf::infinite, wire::actors_atom::value)
      .then([=](std::vector<wire::actor_info>& actors) {
        if (actors.size() == 1)
          *answered = actors[0].id;
      });
  });
  run();
  REQUIRE(log->reports.size() == 1);
  CHECK(log->reports[0].id == info.id);
  CHECK(answered->value_or(wire::unique_id{}) == wire::unique_id{1, 2});
  for (auto hdl : {caf::actor_cast<caf::actor>(link),
                   caf::actor_cast<caf::actor>(upstream)})
    caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  run();
}

namespace {

wire::object_info object_of(uint64_t worker, uint64_t n, uint64_t size) {
  wire::object_info x;
  x.id = {worker, n};
  x.size = size;
  x.state = wire::object_state::ready;
  return x;
}

} // namespace

TEST_CASE_FIXTURE(test::deterministic_fixture,
                  "the gcs lists the largest objects of every owner, names "
                  "their tasks' functions and counts owners that do not "
                  "answer") {
  auto gcs = sys.spawn(node::gcs, node::gcs_config{});
  auto first = std::make_shared<test::owner_log>();
  first->objects = {object_of(1, 1, 500), object_of(1, 2, 20)};
  first->objects[0].put = true;
  auto second = std::make_shared<test::owner_log>();
  second->objects = {object_of(2, 7, 300), object_of(2, 8, 100),
                     object_of(2, 9, 5)};
  auto mute = std::make_shared<test::owner_log>();
  mute->silent = true;
  mute->objects = {object_of(3, 1, 1000)};
  std::vector<wire::owner_actor> owners;
  uint64_t worker = 1;
  for (auto& log : {first, second, mute}) {
    owners.push_back(sys.spawn(test::fake_owner, log));
    caf::anon_send(gcs, wire::owner_atom::value, worker++, owners.back());
  }
  // The task that makes {2, 7} is in the task table.
  wire::task_info task;
  task.id = {2, 7};
  task.function = "make";
  caf::anon_send(gcs, wire::events_atom::value,
                 std::vector<wire::task_info>{task});
  run();
  struct answer {
    std::vector<wire::object_info> objects;
    uint64_t total = 0;
    uint32_t silent = 0;
    bool done = false;
  };
  auto got = std::make_shared<answer>();
  sys.spawn([=](caf::event_based_actor* self) {
    self->request(gcs, caf::infinite, wire::objects_atom::value, uint32_t{3})
      .then([=](std::vector<wire::object_info>& xs, uint64_t total,
                uint32_t silent) {
        *got = {std::move(xs), total, silent, true};
      });
  });
  run();
  // The silent owner holds up the answer until its time is up.
  CHECK(!got->done);
  trigger_timeouts();
  REQUIRE(got->done);
  CHECK(got->total == 5);
  CHECK(got->silent == 1);
  REQUIRE(got->objects.size() == 3);
  CHECK(got->objects[0].id == wire::unique_id{1, 1});
  CHECK(got->objects[0].function.empty());
  CHECK(got->objects[1].id == wire::unique_id{2, 7});
  CHECK(got->objects[1].function == "make");
  CHECK(got->objects[2].id == wire::unique_id{2, 8});
  // One object: from its owner, by the id's high word.
  auto one = std::make_shared<std::optional<wire::object_info>>();
  auto missing = std::make_shared<caf::error>();
  sys.spawn([=](caf::event_based_actor* self) {
    self
      ->request(gcs, caf::infinite, wire::objects_atom::value,
                wire::object_id{2, 7})
      .then([=](wire::object_info& x) { *one = std::move(x); });
    self
      ->request(gcs, caf::infinite, wire::objects_atom::value,
                wire::object_id{9, 1})
      .then([](wire::object_info&) {},
            [=](caf::error& err) { *missing = std::move(err); });
  });
  run();
  REQUIRE(one->has_value());
  CHECK((*one)->size == 300);
  CHECK((*one)->function == "make");
  CHECK(wire::code_of(*missing) == wire::errc::not_found);
  for (auto& owner : owners)
    caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(gcs, caf::exit_reason::user_shutdown);
  run();
}

namespace {

// A gcs with three nodes whose raylets reserve bundles if `reserving` says
// so, and a STRICT_SPREAD group of two 1-CPU bundles.
struct group_cluster : test::deterministic_fixture {
  wire::gcs_actor gcs = sys.spawn(node::gcs, node::gcs_config{});
  std::vector<wire::raylet_actor> raylets;
  wire::owner_actor owner
    = sys.spawn(test::fake_owner, std::make_shared<test::owner_log>());
  const wire::unique_id group{9, 1};

  void start(std::vector<bool> reserving) {
    for (uint64_t n = 1; n <= reserving.size(); ++n) {
      auto log = std::make_shared<test::raylet_log>();
      log->reserve_bundles = reserving[n - 1];
      raylets.push_back(sys.spawn(test::fake_raylet, log));
      caf::anon_send(gcs, wire::register_atom::value, node_row(n).info,
                     raylets.back());
    }
    wire::placement_group_info pg;
    pg.id = group;
    pg.strategy = wire::placement_strategy::strict_spread;
    pg.bundles = {{{"CPU", 1}}, {{"CPU", 1}}};
    caf::anon_send(gcs, wire::group_atom::value, wire::create_atom::value, pg,
                   owner);
    run();
  }

  wire::placement_group_info lookup() {
    auto result = std::make_shared<wire::placement_group_info>();
    sys.spawn([=](caf::event_based_actor* self) {
      self
        ->request(gcs, caf::infinite, wire::group_atom::value,
                  wire::lookup_atom::value, group)
        .then([=](wire::placement_group_info& x) { *result = std::move(x); });
    });
    run();
    return *result;
  }

  void kill_node(const wire::unique_id& node) {
    caf::anon_send_exit(raylets.at(node.lo - 1), caf::exit_reason::kill);
    run();
  }

  ~group_cluster() {
    for (auto& r : raylets)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(gcs, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

TEST_CASE_FIXTURE(group_cluster,
                  "a group that loses a node places only that node's bundle "
                  "again") {
  start({true, true, true});
  auto before = lookup();
  REQUIRE(before.state == wire::placement_group_state::created);
  REQUIRE(before.nodes.size() == 2);
  // The node of bundle 0 dies: bundle 1 stays, bundle 0 goes to the node
  // neither used.
  kill_node(before.nodes[0]);
  auto after = lookup();
  CHECK(after.state == wire::placement_group_state::created);
  CHECK(after.nodes[1] == before.nodes[1]);
  CHECK(after.nodes[0] != before.nodes[0]);
  CHECK(after.nodes[0] != before.nodes[1]);
  CHECK_FALSE(after.nodes[0].nil());
}

TEST_CASE_FIXTURE(group_cluster,
                  "a group placing a lost bundle again can lose the others") {
  // The third node refuses: after a loss the group waits with one bundle.
  start({true, true, false});
  auto before = lookup();
  REQUIRE(before.state == wire::placement_group_state::created);
  kill_node(before.nodes[0]);
  auto waiting = lookup();
  CHECK(waiting.state == wire::placement_group_state::rescheduling);
  CHECK(waiting.nodes[0].nil());
  CHECK(waiting.nodes[1] == before.nodes[1]);
  // Then the node it kept dies too: nothing stays on a dead node.
  kill_node(before.nodes[1]);
  auto after = lookup();
  CHECK(after.state == wire::placement_group_state::rescheduling);
  CHECK(after.nodes[0].nil());
  CHECK(after.nodes[1].nil());
}
