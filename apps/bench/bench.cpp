// caraway-bench: Ray's microbenchmarks on an embedded caraway node, or as
// the driver of a cluster (a running one, or one of 1 or 2 local nodes the
// bench starts itself), next to bare CAF baselines measured in the same run:
// in one process and, for a cluster, between two processes.
//
// Prints one `<name> <value> <unit>` line per metric on stdout. Each metric
// is the median of several timed trials after a warmup; a trial stops the
// clock only after every result it counts has arrived. Ratios give
// caraway's speed as a fraction of the baseline's.

#include <sys/resource.h>
#include <unistd.h>

#include <caraway/caraway.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "caf_baseline.hpp"
#include "cluster.hpp"
#include "measure.hpp"
#include "process.hpp"
#include "remote.hpp"

namespace bench {

namespace {

// Tasks or calls per batch, as in Ray's microbenchmarks.
constexpr int64_t batch_size = 1000;

// 32 MiB per large put: well above the inline threshold, well below the
// store's capacity.
constexpr size_t large_doubles = size_t{4} << 20;

// 64 MiB per object moved between nodes: far above the inline threshold,
// and enough bytes that the cost per task vanishes next to the copying.
constexpr int64_t transfer_bytes = int64_t{64} << 20;

// Bounds every wait for a result, so that a broken cluster fails the run
// instead of hanging it; a healthy one answers in milliseconds.
constexpr auto get_timeout = std::chrono::seconds(60);

// Where the driver runs, from the command line.
struct options {
  settings cfg;
  /// host:port of a running cluster's head (--address).
  std::string address;
  /// Nodes of a local cluster to start (--cluster), 0 for none.
  int cluster_nodes = 0;
  /// With --cluster: the nodes' --worker-mode.
  std::string worker_mode = "threads";
  /// With --cluster: mutual TLS between the nodes and the bench (off, on
  /// or both).
  std::string tls = "off";

  /// Tasks run in other processes than the driver.
  bool remote() const {
    return !address.empty() || cluster_nodes > 0;
  }
};

void usage() {
  std::cerr
    << "usage: caraway-bench [--quick] [--trials N] [--trial-ms MS]\n"
       "         [--only baseline|tasks|actors|objects|groups|fib|queue|\n"
       "                 scaling]\n"
       "         [--address HOST:PORT | --cluster 1|2|3\n"
       "          [--worker-mode threads|processes|both]\n"
       "          [--tls off|on|both]]\n"
       "         [--caraway-...]\n"
       "  --address: drive the running cluster with this head\n"
       "  --cluster: start 1 or 2 local caraway-node daemons, drive\n"
       "             them and stop them again\n"
       "  --worker-mode: where those nodes run tasks (default:\n"
       "             threads); both: every group on threads, then\n"
       "             again on processes (metrics <name>_processes),\n"
       "             with each one's ratio to the threads' figure\n"
       "  --tls: whether those nodes and the bench use mutual TLS\n"
       "             (certificates made for the run); both: every pass\n"
       "             without, then with (metrics <name>_tls, and each\n"
       "             one's ratio to the figure without)\n";
}

// Parses the bench's own flags and skips the `--caraway-...` ones (and their
// separate values), which caraway::init reads.
options parse_flags(int argc, char** argv) {
  options opts;
  auto& cfg = opts.cfg;
  bool quick = false;
  int trials = -1;
  int trial_ms = -1;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next_value = [&]() -> int {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      auto text = std::string{argv[++i]};
      char* end = nullptr;
      auto value = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || value <= 0 || value > 1000000)
        throw std::invalid_argument(arg + " needs a positive number");
      return static_cast<int>(value);
    };
    if (arg.rfind("--caraway-", 0) == 0) {
      if (arg.find('=') == std::string::npos && i + 1 < argc
          && std::strncmp(argv[i + 1], "--", 2) != 0)
        ++i;
    } else if (arg == "--quick") {
      quick = true;
    } else if (arg == "--trials") {
      trials = next_value();
    } else if (arg == "--trial-ms") {
      trial_ms = next_value();
    } else if (arg == "--only") {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      cfg.only = argv[++i];
    } else if (arg == "--address") {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      opts.address = argv[++i];
    } else if (arg == "--cluster") {
      opts.cluster_nodes = next_value();
      if (opts.cluster_nodes > 3)
        throw std::invalid_argument("--cluster takes 1 to 3 nodes");
    } else if (arg == "--worker-mode") {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      opts.worker_mode = argv[++i];
      if (opts.worker_mode != "threads" && opts.worker_mode != "processes"
          && opts.worker_mode != "both")
        throw std::invalid_argument(
          "--worker-mode is threads, processes or both");
    } else if (arg == "--tls") {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      opts.tls = argv[++i];
      if (opts.tls != "off" && opts.tls != "on" && opts.tls != "both")
        throw std::invalid_argument("--tls is off, on or both");
    } else if (arg == "--help" || arg == "-h") {
      usage();
      std::exit(EXIT_SUCCESS);
    } else {
      throw std::invalid_argument("unknown argument: " + arg);
    }
  }
  if (!cfg.only.empty() && cfg.only != "baseline" && cfg.only != "tasks"
      && cfg.only != "actors" && cfg.only != "objects"
      && cfg.only != "groups" && cfg.only != "fib"
      && cfg.only != "queue" && cfg.only != "scaling")
    throw std::invalid_argument("unknown group for --only: " + cfg.only);
  if (quick) {
    // A smoke test: every code path once, numbers only indicative.
    cfg.quick = true;
    cfg.trials = 3;
    cfg.trial_length = std::chrono::milliseconds(20);
    cfg.warmup_length = std::chrono::milliseconds(10);
    cfg.fixed_budget = std::chrono::seconds(1);
    cfg.fib_n = 15;
  }
  if (trials > 0)
    cfg.trials = trials;
  if (trial_ms > 0)
    cfg.trial_length = std::chrono::milliseconds(trial_ms);
  // --caraway-address means what --address means.
  auto address = caraway::parse_config(argc, argv).address;
  if (!address.empty() && !opts.address.empty() && address != opts.address)
    throw std::invalid_argument("--address and --caraway-address differ");
  if (!address.empty())
    opts.address = address;
  if (!opts.address.empty() && opts.cluster_nodes > 0)
    throw std::invalid_argument("--cluster starts its own cluster: it takes "
                                "no address");
  if (opts.worker_mode != "threads" && opts.cluster_nodes == 0)
    throw std::invalid_argument("--worker-mode is for the nodes --cluster "
                                "starts");
  if (opts.tls != "off" && opts.cluster_nodes == 0)
    throw std::invalid_argument("--tls is for the nodes --cluster starts");
  return opts;
}

// Fails loudly instead of reporting a rate for work that went wrong.
void expect(bool condition, const char* what) {
  if (!condition)
    throw std::runtime_error(std::string{"wrong result: "} + what);
}

// Submits a batch of small tasks and gets all results.
int64_t task_batch() {
  std::vector<caraway::object_ref<int64_t>> refs;
  refs.reserve(batch_size);
  for (int64_t i = 0; i < batch_size; ++i)
    refs.emplace_back(caraway::task(small_value).remote());
  int64_t sum = 0;
  for (auto x : caraway::get(refs, get_timeout))
    sum += x;
  expect(sum == batch_size, "task batch");
  return batch_size;
}

// Calls a method a batch of times and gets all results.
int64_t call_batch(const caraway::actor_handle<bench_actor>& handle) {
  std::vector<caraway::object_ref<int64_t>> refs;
  refs.reserve(batch_size);
  for (int64_t i = 0; i < batch_size; ++i)
    refs.emplace_back(handle.task(&bench_actor::small_value).remote());
  int64_t sum = 0;
  for (auto x : caraway::get(refs, get_timeout))
    sum += x;
  expect(sum == batch_size, "call batch");
  return batch_size;
}

void run_tasks(const settings& cfg, report& out) {
  std::vector<double> latencies;
  auto sync = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] {
      auto start = clock::now();
      auto x = caraway::get(caraway::task(small_value).remote(), get_timeout);
      latencies.emplace_back(
        std::chrono::duration<double, std::micro>(clock::now() - start)
          .count());
      expect(x == 1, "sync task");
      return 1;
    });
  });
  out.print("single_client_tasks_sync", sync, "tasks/s");
  out.print("single_client_tasks_sync_latency", median(latencies), "us");
  // The tail: a stall now and then hides in the median.
  out.print("single_client_tasks_sync_latency_p99", percentile(latencies, 99),
            "us");
  auto async = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, task_batch);
  });
  out.print("single_client_tasks_async", async, "tasks/s");
  // The same work as above counted in batches, as Ray reports it.
  auto batches = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [] { return task_batch() / batch_size; });
  });
  out.print("single_client_tasks_and_get_batch", batches, "batches/s");
}

void run_actors(const settings& cfg, report& out) {
  // Killed at the end: a cluster keeps actors after their driver left.
  std::vector<caraway::actor_handle<bench_actor>> created;
  auto handle = caraway::actor<bench_actor>().remote();
  created.emplace_back(handle);
  auto sync = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] {
      auto x = caraway::get(handle.task(&bench_actor::small_value).remote(),
                            get_timeout);
      expect(x == 1, "sync call");
      return 1;
    });
  });
  out.print("1_1_actor_calls_sync", sync, "calls/s");
  auto async = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] { return call_batch(handle); });
  });
  out.print("1_1_actor_calls_async", async, "calls/s");
  auto concurrent_handle
    = caraway::actor<bench_actor>().max_concurrency(4).remote();
  created.emplace_back(concurrent_handle);
  auto concurrent = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length,
                          [&] { return call_batch(concurrent_handle); });
  });
  out.print("1_1_actor_calls_concurrent", concurrent, "calls/s");
  // As in Ray: n caller tasks, each spreading its calls over n actors.
  auto n
    = static_cast<int64_t>(std::max(2u, std::thread::hardware_concurrency()));
  std::vector<caraway::actor_handle<bench_actor>> handles;
  for (int64_t i = 0; i < n; ++i) {
    handles.emplace_back(caraway::actor<bench_actor>().remote());
    created.emplace_back(handles.back());
  }
  auto n_n = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] {
      std::vector<caraway::object_ref<int64_t>> callers;
      for (int64_t i = 0; i < n; ++i)
        callers.emplace_back(
          caraway::task(call_actors).remote(handles, batch_size));
      int64_t sum = 0;
      for (auto x : caraway::get(callers, get_timeout))
        sum += x;
      expect(sum == n * batch_size, "n:n calls");
      return sum;
    });
  });
  out.print("n_n_actor_calls_async", n_n, "calls/s");
  for (auto& x : created)
    caraway::kill(x);
}

void run_objects(const settings& cfg, report& out) {
  auto put = median_of_trials(cfg, [&](clock::duration length) {
    int64_t i = 0;
    return ops_per_second(length, [&] {
      // Dropping the ref at once frees the object, as in Ray's benchmark.
      auto ref = caraway::put(i++);
      return 1;
    });
  });
  out.print("single_client_put_calls", put, "ops/s");
  auto ref = caraway::put(int64_t{1});
  auto get = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] {
      expect(caraway::get(ref, get_timeout) == 1, "get");
      return 1;
    });
  });
  out.print("single_client_get_calls", get, "ops/s");
  std::vector<double> large(large_doubles);
  for (size_t i = 0; i < large.size(); ++i)
    large[i] = static_cast<double>(i);
  auto bytes = static_cast<double>(large.size() * sizeof(double));
  auto gbps = median_of_trials(cfg, [&](clock::duration length) {
    auto puts = ops_per_second(length, [&] {
      // Drops the ref before the next put so the store can reuse memory.
      auto big = caraway::put(large);
      expect(big.valid(), "large put");
      return 1;
    });
    return puts * bytes / 1e9;
  });
  out.print("single_client_put_gigabytes", gbps, "GB/s");
  // One op: submit 1000 tasks, then wait for one ready ref at a time.
  auto wait = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] {
      std::vector<caraway::object_ref<int64_t>> pending;
      pending.reserve(batch_size);
      for (int64_t i = 0; i < batch_size; ++i)
        pending.emplace_back(caraway::task(small_value).remote());
      int64_t ready = 0;
      while (!pending.empty()) {
        auto res = caraway::wait(pending, 1, get_timeout);
        expect(!res.ready.empty(), "wait timed out");
        ready += static_cast<int64_t>(res.ready.size());
        pending = std::move(res.pending);
      }
      expect(ready == batch_size, "wait");
      return 1;
    });
  });
  out.print("single_client_wait_1k_refs", wait, "ops/s");
}

// One op: a placement group of one 1-CPU bundle made, waited for until its
// bundle is reserved, and removed (Ray's placement_group_create/removal).
void run_groups(const settings& cfg, report& out) {
  auto rate = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] {
      auto pg = caraway::placement_group({{{"CPU", 1}}}).remote();
      expect(pg.wait(std::chrono::duration_cast<std::chrono::milliseconds>(
               get_timeout)),
             "placement group");
      caraway::remove_placement_group(pg);
      return 1;
    });
  });
  out.print("placement_group_create_removal", rate, "ops/s");
}

// A million small tasks submitted at once, then got: the whole queue's time
// and this process' peak memory (run alone, `--only queue`, so that the
// peak is the queue's).
void run_queue(report& out) {
  constexpr int64_t n = 1000000;
  auto start = clock::now();
  std::vector<caraway::object_ref<int64_t>> refs;
  refs.reserve(n);
  for (int64_t i = 0; i < n; ++i)
    refs.emplace_back(caraway::task(small_value).remote());
  int64_t sum = 0;
  for (auto x : caraway::get(refs, std::chrono::minutes(10)))
    sum += x;
  expect(sum == n, "queued tasks");
  out.print("queued_1m_tasks_seconds", seconds_since(start), "s");
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  out.print("queued_1m_tasks_peak_rss_mib",
            static_cast<double>(usage.ru_maxrss) / 1024.0, "MiB");
}

int64_t fib_number(int64_t n) {
  int64_t a = 0;
  int64_t b = 1;
  for (int64_t i = 0; i < n; ++i) {
    auto c = a + b;
    a = b;
    b = c;
  }
  return a;
}

// fib(n) with nested tasks runs 2 * fib(n + 1) - 1 tasks.
int64_t fib_tasks(int64_t n) {
  return 2 * fib_number(n + 1) - 1;
}

// Trials of a fixed amount of work each (the first call, a warm-up, is the
// caller's): repeats `run_once` while the trial count and budget allow.
template <class F>
std::vector<double> fixed_trials(const settings& cfg, F&& run_once) {
  std::vector<double> times;
  auto start = clock::now();
  do {
    times.emplace_back(run_once());
  } while (static_cast<int>(times.size()) < cfg.trials
           && clock::now() - start < cfg.fixed_budget);
  return times;
}

void run_fib(const settings& cfg, report& out) {
  auto n = cfg.fib_n;
  auto run_once = [&] {
    auto start = clock::now();
    auto x = caraway::get(caraway::task(fib).remote(n), get_timeout);
    auto seconds = seconds_since(start);
    expect(x == fib_number(n), "fib");
    return seconds;
  };
  run_once();
  auto times = fixed_trials(cfg, run_once);
  auto name = "nested_fib" + std::to_string(n);
  auto seconds = median(times);
  out.print(name + "_seconds", seconds, "s");
}

// Moves a large object from a task on one node to a task on another. The
// maker needs no custom resource, so it runs where the driver submits (the
// first node, the head); the reader needs `tpu`, which only the other node
// has. The reader's node pulls the object straight from the maker's node.
// Each trial makes a new object (a node pulls an object once). Two figures:
// the pull alone, as timed by the reading node's object store, and the
// reader task from submission to its small result, which adds a task round
// trip and decoding the value.
void run_transfer(const settings& cfg, report& out) {
  std::string maker;
  std::string reader;
  bool first = true;
  uint64_t last_bytes = 0;
  uint64_t last_ns = 0;
  std::vector<double> pulls;
  auto run_once = [&] {
    auto block = caraway::task(make_block).remote(transfer_bytes);
    caraway::wait(std::vector<caraway::object_ref<std::string>>{block}, 1,
                  get_timeout);
    auto start = clock::now();
    auto seen = caraway::task(read_block).resources({{"tpu", 1}}).remote(block);
    auto text = caraway::get(seen, get_timeout);
    auto seconds = seconds_since(start);
    std::istringstream in{text};
    int64_t size = 0;
    uint64_t bytes = 0;
    uint64_t ns = 0;
    in >> maker >> reader >> size >> bytes >> ns;
    expect(size == transfer_bytes, "transferred size");
    if (maker != reader && !first) {
      // The encoded value is the block plus a length prefix.
      auto pulled = bytes - last_bytes;
      expect(pulled >= static_cast<uint64_t>(transfer_bytes)
               && pulled < static_cast<uint64_t>(transfer_bytes) + 64,
             "one pull per object");
      pulls.push_back(static_cast<double>(ns - last_ns) / 1e9);
    }
    first = false;
    last_bytes = bytes;
    last_ns = ns;
    return seconds;
  };
  run_once();
  if (maker == reader) {
    std::cerr << "caraway-bench: skipped object_transfer: the task that made "
                 "the object and the one with resource tpu that read it both "
                 "ran on node "
              << maker << '\n';
    return;
  }
  pulls.clear();
  auto times = fixed_trials(cfg, run_once);
  auto bytes = static_cast<double>(transfer_bytes);
  out.print("object_transfer_gigabytes", bytes / median(pulls) / 1e9, "GB/s");
  out.print("object_transfer_task_gigabytes", bytes / median(times) / 1e9,
            "GB/s");
  std::cerr << "caraway-bench: object_transfer: " << (transfer_bytes >> 20)
            << " MiB made on node " << maker << ", pulled by node " << reader
            << "; _task_ includes the reader task and decoding the value\n";
}

// A large object one actor made, read by another actor of the same node: in
// process mode two worker processes sharing the node's store. Each trial a
// new object; the reader times get_view (in place) and then get (a copy)
// itself, and must not have pulled.
void run_view(const settings& cfg, report& out) {
  // Both on the node with the most CPUs: left to the scheduler, the second
  // actor sometimes went to another node, whose reads pull.
  std::string node;
  double most = -1;
  for (auto& n : caraway::nodes()) {
    auto cpus = n.total.count("CPU") > 0 ? n.total.at("CPU") : 0.0;
    if (n.alive && cpus > most) {
      most = cpus;
      node = n.id;
    }
  }
  auto maker = caraway::actor<view_actor>()
                 .scheduling(caraway::node_affinity(node, false))
                 .remote();
  auto reader = caraway::actor<view_actor>()
                  .scheduling(caraway::node_affinity(node, false))
                  .remote();
  constexpr int64_t elems = transfer_bytes / sizeof(double);
  std::vector<double> views;
  std::vector<double> gets;
  auto run_once = [&] {
    auto refs = caraway::get(maker.task(&view_actor::make).remote(elems),
                             get_timeout);
    std::istringstream in{
      caraway::get(reader.task(&view_actor::view).remote(refs), get_timeout)};
    double view_ns = 0;
    double get_ns = 0;
    int64_t pulled = -1;
    in >> view_ns >> get_ns >> pulled;
    expect(pulled == 0, "a view on the maker's node pulls nothing");
    views.push_back(view_ns / 1e6);
    gets.push_back(get_ns / 1e6);
    return 0.0;
  };
  run_once();
  views.clear();
  gets.clear();
  fixed_trials(cfg, run_once);
  out.print("get_view_64mib_other_worker_ms", median(views), "ms");
  out.print("get_64mib_other_worker_ms", median(gets), "ms");
}

// Why the object transfer cannot run, or "" if it can: it needs a second
// node, with resource tpu. For a cluster the bench did not start, the
// caraway CLI lists the nodes.
std::string transfer_skip_reason(const options& opts) {
  if (opts.cluster_nodes == 2)
    return "";
  if (!opts.address.empty()) {
    namespace fs = std::filesystem;
    auto cli = (fs::path{self_exe()}.parent_path() / "caraway").string();
    if (access(cli.c_str(), X_OK) != 0)
      return "caraway (the CLI) is not next to the bench, to list the nodes";
    temp_dir dir;
    child_process list{{cli, "--address", opts.address, "list", "nodes"},
                       dir.path() + "/list.out",
                       dir.path() + "/list.err"};
    if (!list.wait_exit(std::chrono::seconds(20)) || !list.clean_exit())
      return "caraway list nodes failed" + list.err_tail(5);
    std::istringstream lines{list.output()};
    std::string line;
    int alive = 0;
    bool tpu = false;
    while (std::getline(lines, line)) {
      std::istringstream words{line};
      std::string id;
      std::string address;
      std::string state;
      std::string resource;
      if (!(words >> id >> address >> state) || state != "alive")
        continue;
      ++alive;
      while (words >> resource)
        tpu = tpu || resource.rfind("tpu:", 0) == 0;
    }
    if (alive >= 2 && tpu)
      return "";
  }
  return "needs two nodes, one of them with resource tpu (try --cluster 2)";
}

// 2,000 tasks of 20 ms each (200 with --quick), all submitted at once: the
// wall time against the ideal, the tasks' total time over every CPU of the
// cluster, and how many ran on each node.
void run_scaling(const settings& cfg, report& out) {
  const int64_t n = cfg.quick ? 200 : 2000;
  const int64_t ms = 20;
  auto cpus = caraway::cluster_resources()["CPU"];
  auto start = clock::now();
  std::vector<caraway::object_ref<std::string>> refs;
  refs.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    refs.emplace_back(caraway::task(sleep_on_node).remote(ms));
  std::map<std::string, int64_t> per_node;
  for (auto& node : caraway::get(refs, std::chrono::seconds(300)))
    ++per_node[node];
  auto wall = seconds_since(start);
  auto ideal = static_cast<double>(n) * ms / 1000.0 / cpus;
  out.print("many_tasks_scaling_seconds", wall, "s");
  out.print("many_tasks_scaling_ideal_seconds", ideal, "s");
  out.print("many_tasks_scaling_vs_ideal", wall / ideal, "x");
  std::cerr << "caraway-bench: " << n << " tasks of " << ms << " ms on "
            << cpus << " CPUs:";
  for (auto& [node, count] : per_node)
    std::cerr << ' ' << node.substr(0, 8) << '=' << count;
  std::cerr << '\n';
}

// Checks that the nodes of a local cluster run tasks, and where: tasks
// without custom resources on the head, tasks that need tpu on the worker.
// Also waits out the worker's registration, which runs after it printed
// that it listens.
void check_cluster(const local_cluster& cluster) {
  auto& ids = cluster.node_ids();
  auto head = caraway::get(caraway::task(task_node).remote(), get_timeout);
  if (head != ids[0])
    throw std::runtime_error("a task ran on node " + head + ", not on the head "
                             + ids[0]);
  std::cerr << "caraway-bench: local cluster at " << cluster.address()
            << ": head " << ids[0] << " (CPU:2)";
  if (ids.size() > 1) {
    auto worker = caraway::get(
      caraway::task(task_node).resources({{"tpu", 1}}).remote(), get_timeout);
    if (worker != ids[1])
      throw std::runtime_error("a tpu task ran on node " + worker
                               + ", not on the worker " + ids[1]);
    std::cerr << ", worker " << ids[1] << " (CPU:1 tpu:1)";
  }
  std::cerr << '\n';
}

// Caraway's speed as a fraction of the matching baseline's: below 1 means
// slower than bare CAF (or memcpy). A cluster's driver talks to another
// process, so its calls compare with the remote baseline. Puts and gets stay
// in the driver, and n:n callers and nested fib tasks submit from a node,
// to actors and tasks mostly on the same node: those compare with the
// baseline in one process.

void print_ratios(report& out, int64_t fib_n, bool remote) {
  auto vs = [&](const std::string& name, const std::string& base,
                double scale = 1) {
    out.ratio(name, base, out.get(name) * scale / out.get(base));
  };
  std::string calls = remote ? "caf_remote_baseline" : "caf_baseline";
  for (auto name : {"single_client_tasks_sync", "1_1_actor_calls_sync"})
    vs(name, calls + "_sync");
  for (auto name : {"single_client_put_calls", "single_client_get_calls"})
    vs(name, "caf_baseline_sync");
  // Lower latency is better, so this ratio divides the other way round.
  out.ratio("single_client_tasks_sync_latency", calls + "_sync_latency",
            out.get(calls + "_sync_latency")
              / out.get("single_client_tasks_sync_latency"));
  for (auto name : {"single_client_tasks_async", "1_1_actor_calls_async",
                    "1_1_actor_calls_concurrent"})
    vs(name, calls + "_pipelined");
  vs("n_n_actor_calls_async", "caf_baseline_pipelined");
  // Each batch and each wait op runs a batch of tasks.
  vs("single_client_tasks_and_get_batch", calls + "_pipelined", batch_size);
  vs("single_client_wait_1k_refs", calls + "_pipelined", batch_size);
  // The fib tasks per second.
  auto fib_name = "nested_fib" + std::to_string(fib_n) + "_seconds";
  out.ratio(fib_name, "caf_baseline_pipelined",
            static_cast<double>(fib_tasks(fib_n)) / out.get(fib_name)
              / out.get("caf_baseline_pipelined"));
  vs("object_transfer_gigabytes", "memcpy_baseline_gigabytes");
  vs("object_transfer_task_gigabytes", "memcpy_baseline_gigabytes");
  vs("single_client_put_gigabytes", "memcpy_baseline_gigabytes");
}

} // namespace

} // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  // The child side of the remote baseline: nothing else runs in it.
  if (argc == 2 && std::strcmp(argv[1], caf_echo_server_flag) == 0)
    return run_caf_echo_server();
  // Outside the try block: when a run fails, the driver has left by the
  // time the error is printed, then the nodes' logs, then the nodes stop.
  std::unique_ptr<local_cluster> cluster;
  try {
    auto opts = parse_flags(argc, argv);
    auto& cfg = opts.cfg;
    auto start = clock::now();
    report out;
    // Baselines first, so caraway's threads do not compete with them.
    if (cfg.runs("baseline")) {
      run_caf_baseline(cfg, out);
      if (opts.remote())
        run_caf_remote_baseline(cfg, out, self_exe());
      run_memcpy_baseline(cfg, out, large_doubles * sizeof(double));
    }
    // One pass per worker mode asked for (--worker-mode both: threads,
    // then processes, whose metrics get a suffix).
    std::vector<std::string> modes{opts.worker_mode};
    if (opts.worker_mode == "both")
      modes = {"threads", "processes"};
    // Passes: each worker mode, without TLS and then with it as asked.
    std::vector<std::pair<std::string, bool>> passes;
    for (auto& mode : modes)
      for (bool tls : {false, true})
        if (opts.tls == "both" || (opts.tls == "on") == tls)
          passes.emplace_back(mode, tls);
    for (auto& [mode, tls] : passes) {
      if (cfg.only == "baseline")
        break;
      out.suffix((mode != modes.front() ? "_" + mode : std::string{})
                 + (tls && opts.tls == "both" ? "_tls" : ""));
      auto caraway_cfg = caraway::parse_config(argc, argv);
      if (opts.cluster_nodes > 0) {
        cluster = std::make_unique<local_cluster>(
          opts.cluster_nodes, cluster_files::next_to(self_exe()), mode, tls);
        caraway_cfg.address = cluster->address();
        cluster->use_tls(caraway_cfg);
      } else {
        caraway_cfg.address = opts.address;
      }
      auto skip_transfer = cfg.runs("objects") ? transfer_skip_reason(opts)
                                               : "";
      {
        auto session = caraway::init(caraway_cfg);
        if (cluster)
          check_cluster(*cluster);
        else if (opts.remote())
          std::cerr << "caraway-bench: driving the cluster at " << opts.address
                    << '\n';
        if (cfg.runs("tasks"))
          run_tasks(cfg, out);
        if (cfg.runs("actors"))
          run_actors(cfg, out);
        if (cfg.runs("objects")) {
          run_objects(cfg, out);
          run_view(cfg, out);
          if (skip_transfer.empty())
            run_transfer(cfg, out);
          else
            std::cerr << "caraway-bench: skipped object_transfer: "
                      << skip_transfer << '\n';
        }
        if (cfg.runs("groups"))
          run_groups(cfg, out);
        if (cfg.runs("fib"))
          run_fib(cfg, out);
        // Only on request: it takes a while and a GiB.
        if (cfg.only == "queue")
          run_queue(out);
        if (cfg.only == "scaling")
          run_scaling(cfg, out);
      }
      if (cluster) {
        cluster->stop();
        cluster.reset();
      }
    }
    out.suffix("");
    print_ratios(out, cfg.fib_n, opts.remote());
    if (modes.size() > 1)
      out.compare_passes("_processes", "threads");
    // Each TLS figure against the same pass without (x_processes_tls
    // against x_processes).
    if (opts.tls == "both")
      out.compare_passes("_tls", "plain");
    std::cerr << "caraway-bench took " << seconds_since(start) << " s\n";
  } catch (const std::exception& e) {
    std::cerr << "caraway-bench: " << e.what() << '\n';
    if (cluster) {
      cluster->print_logs(std::cerr);
      cluster.reset();
    }
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
