// Libraries with user code: which ones a driver announces, how a node loads
// them, and how the gcs makes every node load them before a driver's tasks
// can arrive.

#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "wait_until.hpp"

#include <caf/all.hpp>

#include "caraway/runtime/libraries.hpp"
#include "caraway/node/gcs.hpp"
#include "caraway/node/raylet.hpp"
#include "caraway/wire/bridge.hpp"
#include "fake_owner.hpp"
#include "test_session.hpp"

using namespace caraway;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using strings = std::vector<std::string>;

config parse(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "app");
  return parse_config(static_cast<int>(argv.size()), argv.data());
}

void touch(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream{path};
}

// What a raylet was asked to load.
struct load_log {
  std::mutex mtx;
  strings paths;

  strings get() {
    std::lock_guard<std::mutex> guard{mtx};
    return paths;
  }
};

} // namespace

TEST_CASE("--caraway-libraries names the libraries a driver announces") {
  SUBCASE("unset: the driver looks for its own task library") {
    CHECK_FALSE(parse({}).libraries.has_value());
  }
  SUBCASE("a comma-separated list") {
    auto cfg = parse({"--caraway-libraries", "a.so,/x/b.so"});
    CHECK(cfg.libraries == strings{"a.so", "/x/b.so"});
  }
  SUBCASE("empty: none at all") {
    auto cfg = parse({"--caraway-libraries="});
    REQUIRE(cfg.libraries.has_value());
    CHECK(cfg.libraries->empty());
  }
  SUBCASE("from CARAWAY_LIBRARIES") {
    setenv("CARAWAY_LIBRARIES", "c.so", 1);
    auto cfg = parse({});
    unsetenv("CARAWAY_LIBRARIES");
    CHECK(cfg.libraries == strings{"c.so"});
  }
  SUBCASE("from a config file") {
    auto path = std::string{"caraway-test-libraries.ini"};
    std::ofstream{path} << "libraries = d.so,e.so\n";
    auto cfg = parse({"--caraway-config", path.c_str()});
    std::remove(path.c_str());
    CHECK(cfg.libraries == strings{"d.so", "e.so"});
  }
}

TEST_CASE("a driver announces the task library built next to it") {
  auto dir = fs::absolute(fs::temp_directory_path()
                          / ("caraway-libraries-" + std::to_string(getpid())));
  fs::remove_all(dir);
  auto exe = (dir / "bin" / "app").string();
  touch(exe);
  CHECK(runtime::task_library_of(exe).empty());
  touch(dir / "lib" / "libapp_tasks.so");
  CHECK(runtime::task_library_of(exe) == (dir / "lib/libapp_tasks.so").string());
  touch(dir / "bin" / "libapp_tasks.so");
  CHECK(runtime::task_library_of(exe) == (dir / "bin/libapp_tasks.so").string());
  CHECK(runtime::task_library_of((dir / "bin" / "other").string()).empty());
  fs::remove_all(dir);
  config cfg;
  cfg.libraries = strings{"rel/x.so", "", "/abs/y.so"};
  CHECK(runtime::job_libraries(cfg)
        == strings{(fs::current_path() / "rel/x.so").string(), "/abs/y.so"});
  cfg.libraries = strings{};
  CHECK(runtime::job_libraries(cfg).empty());
  // The unit tests are no caraway_add_app: they have no task library.
  CHECK(runtime::job_libraries(config{}).empty());
}

TEST_CASE("a library loaded at run time registers its functions once") {
  std::string plugin = CARAWAY_UNIT_PLUGIN;
  CHECK(runtime::load_libraries({plugin, plugin}).empty());
  auto same = fs::path{plugin}.parent_path() / "."
              / fs::path{plugin}.filename();
  CHECK(runtime::load_libraries({same.string()}).empty());
  auto failed = runtime::load_libraries({"/nonexistent/libnothing.so"});
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].find("cannot load the library '/nonexistent/libnothing.so'")
        != std::string::npos);
  // init fails if anything was registered twice.
  auto s = init(test::small_cluster());
  CHECK(get(task<int64_t(int64_t)>("plugin_twice").remote(int64_t{21}), 10s)
        == 42);
}

TEST_CASE("the gcs answers a driver once its nodes loaded the job's code") {
  caf::actor_system_config cfg;
  wire::add_message_types(cfg);
  caf::actor_system sys{cfg};
  auto gcs = sys.spawn(node::gcs, node::gcs_config{});
  std::vector<caf::actor> spawned{caf::actor_cast<caf::actor>(gcs)};
  auto add_node = [&](wire::unique_id id, std::shared_ptr<load_log> log) {
    node::worker_factory factory;
    factory.load_libraries = [log](const strings& paths) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->paths.insert(log->paths.end(), paths.begin(), paths.end());
      return strings{};
    };
    wire::node_info info;
    info.id = id;
    info.total = {{"CPU", 1}};
    wire::raylet_actor raylet
      = sys.spawn(node::raylet, info, uint32_t{4}, factory, gcs, 0.5);
    spawned.emplace_back(caf::actor_cast<caf::actor>(raylet));
    caf::anon_send(gcs, wire::register_atom::value, info, raylet);
    return raylet;
  };
  auto first = std::make_shared<load_log>();
  auto first_raylet = add_node({1, 1}, first);
  auto owner = sys.spawn(test::fake_owner, std::make_shared<test::owner_log>());
  spawned.emplace_back(caf::actor_cast<caf::actor>(owner));
  {
    caf::scoped_actor self{sys};
    bool answered = false;
    self
      ->request(gcs, 5s, wire::job_atom::value, std::string{"test driver"},
                owner, strings{"/x/liba.so"})
      .receive(
        [&](uint64_t job, wire::raylet_actor& raylet, wire::unique_id& node) {
          answered = true;
          CHECK(job == 1);
          CHECK(raylet == first_raylet);
          CHECK(node == wire::unique_id{1, 1});
          CHECK(first->get() == strings{"/x/liba.so"});
        },
        [&](caf::error& err) { FAIL(caf::to_string(err)); });
    CHECK(answered);
    // A node joining while the job runs loads its libraries as it
    // registers, before the gcs asks it anything else.
    auto second = std::make_shared<load_log>();
    add_node({2, 2}, second);
    CHECK(test::wait_until(
      [&] { return second->get() == strings{"/x/liba.so"}; }));
    self->request(gcs, 5s, wire::nodes_atom::value)
      .receive(
        [&](std::vector<wire::node_info>& nodes) { CHECK(nodes.size() == 2); },
        [&](caf::error& err) { FAIL(caf::to_string(err)); });
  }
  for (auto& hdl : spawned)
    caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
}

TEST_CASE("gcs_state sends no work to a node still loading libraries") {
  node::gcs_state st;
  CHECK(st.entry_node() == nullptr);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto dummy = sys.spawn([]() -> caf::behavior { return {}; });
  auto raylet = caf::actor_cast<wire::raylet_actor>(dummy);
  wire::node_info loading;
  loading.id = {1, 1};
  loading.total = loading.available = {{"CPU", 1}};
  st.nodes.push_back({loading, raylet, /*ready=*/false});
  // With no other node, a driver may still use it: the gcs answers the
  // driver only after the node loaded the driver's libraries.
  CHECK(st.entry_node() == &st.nodes[0]);
  // Raylets do not hear of it (and send no owner there) until it is ready.
  CHECK(st.view_rows({{1, 1}}).empty());
  st.mark_ready({1, 1});
  auto rows = st.view_rows({{1, 1}});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].id == wire::unique_id{1, 1});
  CHECK(rows[0].alive);
  st.jobs[1] = {"a", {}, true, {"/x/a.so", "/x/b.so"}};
  st.jobs[2] = {"b", {}, false, {"/x/c.so"}};
  st.jobs[3] = {"c", {}, true, {"/x/b.so", "/x/d.so"}};
  auto running = st.running_libraries();
  REQUIRE(running.size() == 2);
  CHECK(running[1] == strings{"/x/a.so", "/x/b.so"});
  CHECK(running[3] == strings{"/x/b.so", "/x/d.so"});
  caf::anon_send_exit(dummy, caf::exit_reason::user_shutdown);
}
