#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "local_head.hpp"
#include "test_session.hpp"
#include "wait_until.hpp"

using namespace caraway;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> gate_open{false};
std::atomic<int> at_gate{0};

// Blocks its thread (not in get) until the gate opens.
int64_t wait_at_gate() {
  ++at_gate;
  return test::wait_until([] { return gate_open.load(); }) ? 1 : 0;
}

class gatekeeper {
public:
  int64_t open() {
    gate_open = true;
    return 1;
  }
};

// GET http://127.0.0.1:port/path as HTTP/1.0: the whole answer, headers
// included; empty if nothing answers.
std::string http_get(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return {};
  timeval limit{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    auto request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), 0)
        == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0)
        answer.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

uint16_t port_of(const std::string& url) {
  auto colon = url.rfind(':');
  return colon == std::string::npos
           ? 0
           : static_cast<uint16_t>(std::stoi(url.substr(colon + 1)));
}

} // namespace

std::string where_am_i() {
  return node_id();
}

CARAWAY_REMOTE(wait_at_gate, where_am_i)
CARAWAY_ACTOR(gatekeeper, caraway::ctor<>, &gatekeeper::open)

TEST_CASE("the embedded node has the machine's cores by default") {
  config cfg;
  cfg.object_store_memory = uint64_t{64} << 20;
  auto s = init(cfg);
  auto total = cluster_resources();
  CHECK(total.at("CPU")
        == static_cast<double>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST_CASE("tasks report the id of the node they run on") {
  auto s = init(test::small_cluster());
  auto here = node_id();
  CHECK(here.size() == 32);
  CHECK(get(task(where_am_i).remote()) == here);
}

TEST_CASE("an embedded cluster serves a dashboard only when asked") {
  {
    auto s = init(test::small_cluster());
    CHECK(dashboard_url().empty());
  }
  auto cfg = test::small_cluster();
  cfg.dashboard_port = 0;
  auto s = init(cfg);
  auto url = dashboard_url();
  REQUIRE(url.rfind("http://127.0.0.1:", 0) == 0);
  auto port = port_of(url);
  REQUIRE(port != 0);
  auto page = http_get(port, "/");
  CHECK(page.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(page.find("<title>caraway dashboard</title>") != std::string::npos);
  CHECK(http_get(port, "/api/status").find("\"alive_nodes\": 1")
        != std::string::npos);
  // Its tasks are in its task table, for the dashboard to show.
  CHECK(get(task(where_am_i).remote()) == node_id());
  CHECK(test::wait_until([&] {
    // Paced: the owner reports every 500 ms.
    std::this_thread::sleep_for(20ms);
    return http_get(port, "/api/tasks?filter=function%3Dwhere_am_i")
             .find("\"state\": \"FINISHED\"")
           != std::string::npos;
  }));
  s.shutdown();
  CHECK(dashboard_url().empty());
  CHECK(http_get(port, "/").empty());
}

TEST_CASE("the embedded node's resources can be configured") {
  auto cfg = test::small_cluster(3);
  cfg.num_gpus = 1;
  cfg.resources = {{"ssd", 2}};
  auto s = init(cfg);
  auto total = cluster_resources();
  CHECK(total.at("CPU") == 3);
  CHECK(total.at("GPU") == 1);
  CHECK(total.at("ssd") == 2);
  CHECK(available_resources().at("CPU") == 3);
}

TEST_CASE("user code never runs on CAF's scheduler threads") {
  // One scheduler thread: if tasks ran on it, the blocked tasks would keep
  // the gatekeeper's call from ever running.
  auto cfg = test::small_cluster(2);
  cfg.caf["scheduler.max-threads"] = "1";
  auto s = init(cfg);
  gate_open = false;
  at_gate = 0;
  auto a = task(wait_at_gate).remote();
  auto b = task(wait_at_gate).remote();
  // Both tasks hold their threads before the actor asks for one.
  REQUIRE(test::wait_until([] { return at_gate.load() == 2; }));
  auto keeper = actor<gatekeeper>().remote();
  CHECK(get(keeper.task(&gatekeeper::open).remote(), 10s) == 1);
  CHECK(get(a) == 1);
  CHECK(get(b) == 1);
}

TEST_CASE("parse_config reads --caraway- flags and leaves the rest") {
  const char* argv[] = {"app",
                        "--caraway-num-cpus=3",
                        "--user-flag",
                        "--caraway-resources",
                        "ssd:2,tpu:0.5",
                        "--caraway-namespace=jobs",
                        "--caraway-caf=scheduler.max-threads=2",
                        "positional"};
  auto cfg = parse_config(8, argv);
  CHECK(cfg.num_cpus == 3);
  CHECK(cfg.resources.at("ssd") == 2);
  CHECK(cfg.resources.at("tpu") == 0.5);
  CHECK(cfg.ns == "jobs");
  CHECK(cfg.caf.at("scheduler.max-threads") == "2");
}

TEST_CASE("--caraway-worker-processes is a switch that leaves the app's "
          "arguments alone") {
  const char* plain[] = {"app"};
  CHECK_FALSE(parse_config(1, plain).worker_processes);
  const char* before_arg[] = {"app", "--caraway-worker-processes", "20"};
  CHECK(parse_config(3, before_arg).worker_processes);
  const char* last[] = {"app", "20", "--caraway-worker-processes"};
  CHECK(parse_config(3, last).worker_processes);
  const char* off[] = {"app", "--caraway-worker-processes=false"};
  CHECK_FALSE(parse_config(2, off).worker_processes);
  const char* word[] = {"app", "--caraway-worker-processes", "false"};
  CHECK_FALSE(parse_config(3, word).worker_processes);
  const char* binary[] = {"app", "--caraway-worker-processes",
                          "--caraway-node-binary", "/opt/caraway-node"};
  auto cfg = parse_config(4, binary);
  CHECK(cfg.worker_processes);
  CHECK(cfg.node_binary == "/opt/caraway-node");
}

TEST_CASE("an application's own head is told its resources, on loopback") {
  config cfg;
  cfg.num_cpus = 3;
  cfg.resources = {{"ssd", 2}};
  cfg.log_level = "warning";
  auto args = runtime::local_head::arguments(cfg);
  auto text = std::accumulate(args.begin(), args.end(), std::string{},
                              [](std::string x, const std::string& y) {
                                return x + " " + y;
                              });
  CHECK(text.find(" --host 127.0.0.1 --port 0 ") != std::string::npos);
  CHECK(text.find(" --worker-mode processes ") != std::string::npos);
  CHECK(text.find(" --num-cpus 3") != std::string::npos);
  CHECK(text.find(" --resources ssd:2") != std::string::npos);
  // Errors only, unless the application asked for more.
  CHECK(text.find(" --log-level error") != std::string::npos);
  cfg.log_level = "debug";
  args = runtime::local_head::arguments(cfg);
  CHECK(std::find(args.begin(), args.end(), "debug") != args.end());
  std::string why;
  cfg.node_binary = "/nonexistent/caraway-node";
  CHECK(runtime::local_head::find_binary(cfg, why).empty());
  CHECK(why.find("/nonexistent/caraway-node") != std::string::npos);
  CHECK(why.find("--caraway-node-binary") != std::string::npos);
}

TEST_CASE("a cluster's driver spins and uses the I/O thread by default") {
  const char* defaults[] = {"app"};
  auto cfg = parse_config(1, defaults);
  CHECK(cfg.get_spin_us == 100);
  CHECK(cfg.cluster_get_spin_us == 300);
  CHECK(cfg.io_thread_actors);
  const char* argv[] = {"app", "--caraway-cluster-get-spin-us=50",
                        "--caraway-io-thread-actors=false"};
  cfg = parse_config(3, argv);
  CHECK(cfg.cluster_get_spin_us == 50);
  CHECK_FALSE(cfg.io_thread_actors);
}

TEST_CASE("parse_config rejects bad input with a clear error") {
  SUBCASE("unknown caraway flag") {
    const char* argv[] = {"app", "--caraway-no-such-option=1"};
    CHECK_THROWS_AS(parse_config(2, argv), invalid_argument_error);
  }
  SUBCASE("malformed number") {
    const char* argv[] = {"app", "--caraway-num-cpus=many"};
    CHECK_THROWS_AS(parse_config(2, argv), invalid_argument_error);
  }
  SUBCASE("negative resource") {
    const char* argv[] = {"app", "--caraway-resources=ssd:-1"};
    CHECK_THROWS_AS(parse_config(2, argv), invalid_argument_error);
  }
  SUBCASE("resource name of bytes that are not ASCII") {
    const char* argv[] = {"app", "--caraway-resources=gr\xfcn:1"};
    CHECK_THROWS_WITH_AS(parse_config(2, argv),
                         doctest::Contains("printable ASCII"),
                         invalid_argument_error);
  }
  SUBCASE("a value holding a placeholder of Boost's messages") {
    // Boost 1.74 would substitute "%value%" with itself forever.
    const char* argv[] = {"app", "--caraway-num-cpus=%value%"};
    CHECK_THROWS_WITH_AS(parse_config(2, argv), doctest::Contains("num-cpus"),
                         invalid_argument_error);
  }
  SUBCASE("a data port beyond 16 bits") {
    const char* argv[] = {"app", "--caraway-data-port=113245538"};
    CHECK_THROWS_WITH_AS(parse_config(2, argv), doctest::Contains("data-port"),
                         invalid_argument_error);
  }
  SUBCASE("resource without amount") {
    const char* argv[] = {"app", "--caraway-resources=ssd"};
    CHECK_THROWS_AS(parse_config(2, argv), invalid_argument_error);
  }
  SUBCASE("missing config file") {
    const char* argv[] = {"app", "--caraway-config=does-not-exist.ini"};
    CHECK_THROWS_AS(parse_config(2, argv), invalid_argument_error);
  }
}

TEST_CASE("a config file supplies options, the command line wins") {
  auto path = std::string{"caraway-test-config.ini"};
  {
    std::ofstream out{path};
    out << "# comment\nnum-cpus = 5\nnamespace = from_file\n"
        << "resources = ssd:1\n";
  }
  const char* argv[] = {"app", "--caraway-config", path.c_str(),
                        "--caraway-namespace=from_flag"};
  auto cfg = parse_config(4, argv);
  std::remove(path.c_str());
  CHECK(cfg.num_cpus == 5);
  CHECK(cfg.ns == "from_flag");
  CHECK(cfg.resources.at("ssd") == 1);
}

TEST_CASE("the example config file in config/ parses") {
  auto path = std::string{CARAWAY_SOURCE_DIR} + "/config/embedded.ini";
  const char* argv[] = {"app", "--caraway-config", path.c_str()};
  auto cfg = parse_config(3, argv);
  CHECK(cfg.num_cpus == 2);
  CHECK(cfg.resources.at("ssd") == 1);
  CHECK(cfg.object_store_memory == uint64_t{1} << 30);
  CHECK(cfg.caf.at("scheduler.max-threads") == "4");
}

TEST_CASE("CARAWAY_ADDRESS names the cluster when no flag does") {
  setenv("CARAWAY_ADDRESS", "127.0.0.1:7777", 1);
  const char* argv[] = {"app"};
  auto cfg = parse_config(1, argv);
  unsetenv("CARAWAY_ADDRESS");
  CHECK(cfg.address == "127.0.0.1:7777");
}

TEST_CASE("an unknown log level is rejected at init") {
  auto cfg = test::small_cluster();
  cfg.log_level = "loud";
  CHECK_THROWS_AS(init(cfg), invalid_argument_error);
  CHECK_FALSE(is_initialized());
}
