// caraway-node: one per machine. The head runs the gcs; workers join it.
// Options come from an INI file (--config) and the command line, which wins.

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "caraway/caraway.hpp"
#include "caraway/runtime/node.hpp"

namespace po = boost::program_options;

namespace {

constexpr int exit_bad_config = 2;
constexpr int exit_failure = 1;

struct options {
  std::string config_file;
  std::string role = "head";
  int port = -1; // -1: the role's default
  // Read as int: Boost's conversion to 16 bits overflows an int inside.
  int data_port = 0;
  int64_t log_file_max_mb = 100;
  std::string resources;
  std::vector<std::string> caf;
  uint32_t shutdown_timeout_ms = 5000;
  caraway::config cfg;
  caraway::runtime::node_options node;
};

po::options_description describe(options& x) {
  po::options_description desc{"caraway-node options"};
  desc.add_options()("help", "print the options and exit")(
    "config", po::value(&x.config_file), "INI file with these options")(
    "role", po::value(&x.role), "head or worker (default: head)")(
    "host", po::value(&x.node.host),
    "address to listen on (default: 127.0.0.1)")(
    "port", po::value(&x.port),
    "port to listen on (default: 6380 for a head, any free one for a "
    "worker)")("head-address", po::value(&x.node.head_address),
               "host:port of the head (workers)")(
    "num-cpus", po::value(&x.cfg.num_cpus),
    "CPUs of this node (default: the machine's cores)")(
    "num-gpus", po::value(&x.cfg.num_gpus), "GPUs of this node (default: 0)")(
    "resources", po::value(&x.resources), "custom resources, e.g. ssd:2,tpu:1")(
    "object-store-memory", po::value(&x.cfg.object_store_memory),
    "bytes the object store may hold (default: 30% of memory)")(
    "data-port", po::value(&x.data_port),
    "port of the object data path (default: 0, any free port)")(
    "libraries", po::value(&x.node.libraries)->composing(),
    "shared library with user code, loaded at start (drivers announce "
    "their own); repeatable")(
    "heartbeat-interval-ms", po::value(&x.node.heartbeat_interval_ms),
    "how often nodes signal they are alive (default: 500)")(
    "heartbeat-timeout-ms", po::value(&x.node.heartbeat_timeout_ms),
    "silence after which a peer counts as gone (default: 5000)")(
    "connect-timeout-ms", po::value(&x.node.connect_timeout_ms),
    "how long a worker tries to reach the head (default: 5000)")(
    "max-message-bytes", po::value(&x.cfg.max_message_bytes),
    "largest message accepted from another process; a peer announcing a "
    "larger one is disconnected (default: 67108864)")(
    "io-thread-actors", po::value(&x.cfg.io_thread_actors),
    "the raylet and the owner run on the network I/O thread (default: "
    "true)")("max-workers", po::value(&x.cfg.max_workers),
             "most executor threads, or worker processes (default: 512)")(
    "worker-mode", po::value(&x.node.worker_mode),
    "threads: tasks run on threads of this daemon; processes: in worker "
    "processes the node starts per job (default: processes)")(
    "worker-binary", po::value(&x.node.worker_binary),
    "the worker program (default: caraway-worker next to caraway-node)")(
    "worker-idle-timeout-ms", po::value(&x.node.worker_idle_timeout_ms),
    "a worker process idle this long ends, unless it owns objects or holds "
    "results (default: 10000)")(
    "worker-exit-grace-ms", po::value(&x.node.worker_exit_grace_ms),
    "a worker process whose job ended has this long to exit by itself "
    "before it is killed (default: 1000)")(
    "log-level", po::value(&x.cfg.log_level),
    "trace, debug, info, warning, error or off (default: info)")(
    "tls-ca", po::value(&x.cfg.tls_ca),
    "mutual TLS on every connection: the cluster CA's certificate (PEM; "
    "caraway tls init DIR makes DIR/ca.pem); needed to listen or to reach "
    "the head anywhere but on loopback")(
    "tls-cert", po::value(&x.cfg.tls_cert),
    "mutual TLS: this node's certificate, signed by the CA (DIR/node.pem)")(
    "tls-key", po::value(&x.cfg.tls_key),
    "mutual TLS: the key of that certificate (DIR/node.key)")(
    "tls-dir", po::value(&x.cfg.tls_dir),
    "mutual TLS: a directory as caraway tls init makes, instead of the "
    "three files (default: ~/.caraway/tls, this user's own, made on first "
    "use)")("insecure-loopback",
            po::value(&x.cfg.insecure_loopback)->implicit_value(true),
            "no TLS, on loopback only: any local user could run code on the "
            "cluster")(
    "data-dir", po::value(&x.node.data_dir),
    "directory for the node's files, created if missing; the head keeps "
    "the cluster's tables there and takes them back when it restarts "
    "(default: none, nothing is kept)")(
    "metrics-port", po::value(&x.node.metrics_port),
    "serve Prometheus metrics on this port of `host` (0: a free one; "
    "default: none)")(
    "log-file-max-mb", po::value(&x.log_file_max_mb),
    "each component's log file in the session directory's logs/ moves to "
    "<component>.log.1 past this size (default: 100; 0: no limit)")(
    "dashboard-port", po::value(&x.node.dashboard_port),
    "the head: serve the web dashboard on this port of `host` (0: a free "
    "one, -1: none; default: 8265, or none if that one is in use)")(
    "dashboard-host", po::value(&x.node.dashboard_host),
    "the head: the address the dashboard listens on (default: `host`; "
    "127.0.0.1 keeps it to this machine)")(
    "task-table-size", po::value(&x.node.task_table_size),
    "the head: how many of the latest tasks `caraway list tasks` can show "
    "(default: 10000; 0 keeps none)")(
    "rejoin-timeout-ms", po::value(&x.node.rejoin_timeout_ms),
    "a head restarted with its data dir: how long nodes, drivers and "
    "actors have to come back before they count as dead (default: 10000)")(
    "head-reconnect-timeout-ms", po::value(&x.node.head_reconnect_timeout_ms),
    "a worker that lost the head: how long it serves on and tries to "
    "reach it again before it stops (default: 30000)")(
    "spread-threshold", po::value(&x.node.spread_threshold),
    "below this share of its resources in use, the node takes new tasks "
    "itself; above it, they go to the least used node with room "
    "(default: 0.5)")(
    "view-period-ms", po::value(&x.node.view_period_ms),
    "the head: how often, at most, nodes hear of each other's resource use "
    "(default: 100)")(
    "shutdown-timeout-ms", po::value(&x.shutdown_timeout_ms),
    "after a stop request, how long the node may take to stop before it "
    "exits anyway, saying so (default: 5000)")(
    "caf", po::value(&x.caf)->composing(),
    "a CAF setting as key=value, e.g. scheduler.max-threads=4; repeatable");
  return desc;
}

[[noreturn]] void bad_config(const std::string& what) {
  std::cerr << "caraway-node: " << what << '\n';
  std::exit(exit_bad_config);
}

options parse(int argc, char** argv) {
  options x;
  x.cfg.log_level = "info";
  auto desc = describe(x);
  po::variables_map vm;
  // What Boost reads, for its error messages.
  auto input = caraway::detail::arguments_text(argc, argv);
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help") > 0) {
      std::cout << desc << '\n';
      std::exit(0);
    }
    if (vm.count("config") > 0) {
      auto path = vm["config"].as<std::string>();
      std::ifstream file{path};
      if (!file)
        bad_config("cannot read config file '" + path + "'");
      std::string text{std::istreambuf_iterator<char>{file}, {}};
      input += text;
      std::istringstream in{text};
      po::store(po::parse_config_file(in, desc), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    bad_config("invalid option: "
               + caraway::detail::option_error_text(e, input));
  }
  if (x.role != "head" && x.role != "worker")
    bad_config("invalid option 'role': '" + x.role
               + "' is neither head nor worker");
  x.node.head = x.role == "head";
  if (x.port < -1 || x.port > 65535)
    bad_config("invalid option 'port': " + std::to_string(x.port)
               + " is not a port number");
  if (x.data_port < 0 || x.data_port > 65535)
    bad_config("invalid option 'data-port': " + std::to_string(x.data_port)
               + " is not a port number");
  x.node.data_port = static_cast<uint16_t>(x.data_port);
  x.node.port = static_cast<uint16_t>(x.port >= 0 ? x.port
                                      : x.node.head ? 6380
                                                    : 0);
  if (!x.node.head && x.node.head_address.empty())
    bad_config("invalid option 'head-address': a worker needs the head's "
               "host:port");
  if (vm.count("num-cpus") > 0 && !(x.cfg.num_cpus >= 0))
    bad_config("invalid option 'num-cpus': must be a non-negative number");
  if (!(x.cfg.num_gpus >= 0))
    bad_config("invalid option 'num-gpus': must be a non-negative number");
  if (x.node.heartbeat_interval_ms == 0
      || x.node.heartbeat_timeout_ms <= x.node.heartbeat_interval_ms)
    bad_config("invalid option 'heartbeat-timeout-ms': must exceed "
               "heartbeat-interval-ms, which must be positive");
  try {
    if (!x.resources.empty())
      x.cfg.resources = caraway::parse_resources(x.resources);
  } catch (const caraway::error& e) {
    bad_config(std::string{"invalid option 'resources': "} + e.what());
  }
  for (auto& opt : x.caf) {
    auto eq = opt.find('=');
    if (eq == std::string::npos || eq == 0)
      bad_config("invalid option 'caf': '" + opt + "' is not key=value");
    x.cfg.caf[opt.substr(0, eq)] = opt.substr(eq + 1);
  }
  if (!x.node.data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(x.node.data_dir, ec);
    if (ec)
      bad_config("invalid option 'data-dir': cannot create '"
                 + x.node.data_dir + "': " + ec.message());
  }
  if (x.node.worker_mode != "threads" && x.node.worker_mode != "processes")
    bad_config("invalid option 'worker-mode': '" + x.node.worker_mode
               + "' is neither threads nor processes");
  if (x.node.rejoin_timeout_ms == 0)
    bad_config("invalid option 'rejoin-timeout-ms': must be positive");
  if (x.node.metrics_port < -1 || x.node.metrics_port > 65535)
    bad_config("invalid option 'metrics-port': "
               + std::to_string(x.node.metrics_port)
               + " is not a port (0 picks a free one)");
  if (x.node.dashboard_port < -1 || x.node.dashboard_port > 65535)
    bad_config("invalid option 'dashboard-port': "
               + std::to_string(x.node.dashboard_port)
               + " is not a port (0 picks a free one, -1 none)");
  x.node.dashboard_port_set = vm.count("dashboard-port") > 0;
  if (x.log_file_max_mb < 0 || x.log_file_max_mb > (int64_t{1} << 40))
    bad_config("invalid option 'log-file-max-mb': "
               + std::to_string(x.log_file_max_mb) + " is not a size in MiB");
  x.node.log_file_max_bytes = static_cast<uint64_t>(x.log_file_max_mb) << 20;
  if (x.shutdown_timeout_ms == 0)
    bad_config("invalid option 'shutdown-timeout-ms': must be positive");
  if (x.node.view_period_ms == 0)
    bad_config("invalid option 'view-period-ms': must be positive");
  if (!(x.node.spread_threshold >= 0 && x.node.spread_threshold <= 1))
    bad_config("invalid option 'spread-threshold': must be between 0 and 1");
  return x;
}

// Signals go to one thread that waits for them; every other thread blocks
// them, so CAF's threads never see one.
std::atomic<int> caught_signal{0};

void start_signal_thread(sigset_t set) {
  std::thread{[set] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0)
      caught_signal = sig;
  }}.detach();
}

// A stop must end the process: CAF's actor system waits in its destructor
// for every detached actor's thread, and a thread whose actor is never
// released (seen rarely at the end of a busy run: a terminated executor
// whose last strong reference nothing holds) would keep it waiting forever.
// Everything the node served is stopped by then; only the wait remains.
void exit_within(std::chrono::milliseconds timeout, int code) {
  std::thread{[timeout, code] {
    std::this_thread::sleep_for(timeout);
    std::cerr << "caraway-node: shutdown did not finish within "
              << timeout.count() << " ms; exiting without it" << std::endl;
    std::_Exit(code);
  }}.detach();
}

} // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  start_signal_thread(set);
  caraway::runtime::node_started started;
  try {
    started = caraway::runtime::start_node(opts.cfg, opts.node);
  } catch (const caraway::invalid_argument_error& e) {
    bad_config(e.what());
  } catch (const std::exception& e) {
    std::cerr << "caraway-node: " << e.what() << '\n';
    return exit_failure;
  }
  std::cout << "caraway-node " << opts.role << " listening on "
            << opts.node.host << ':' << started.port << " node "
            << started.node_id;
  if (started.metrics_port != 0)
    std::cout << " metrics " << opts.node.host << ':' << started.metrics_port;
  if (started.dashboard_port != 0)
    std::cout << " dashboard "
              << (opts.node.dashboard_host.empty() ? opts.node.host
                                                   : opts.node.dashboard_host)
              << ':' << started.dashboard_port;
  std::cout << std::endl;
  auto failure
    = caraway::runtime::wait_node([] { return caught_signal.load() != 0; });
  if (auto sig = caught_signal.load())
    std::cerr << "caraway-node: stopping on signal " << sig << '\n';
  else if (!failure.empty())
    std::cerr << "caraway-node: stopping: " << failure << '\n';
  else if (opts.cfg.log_level != "error" && opts.cfg.log_level != "off")
    std::cerr << "caraway-node: stopping on request\n";
  exit_within(std::chrono::milliseconds(opts.shutdown_timeout_ms),
              failure.empty() ? 0 : exit_failure);
  caraway::shutdown();
  return failure.empty() ? 0 : exit_failure;
}
