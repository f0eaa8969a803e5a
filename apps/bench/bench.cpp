// caraway-bench: Ray's microbenchmarks on an embedded caraway node, next to
// a bare CAF baseline measured in the same run.
//
// Prints one `<name> <value> <unit>` line per metric on stdout. Each metric
// is the median of several timed trials after a warmup; a trial stops the
// clock only after every result it counts has arrived. Ratios give
// caraway's speed as a fraction of the baseline's.

#include <caraway/caraway.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "caf_baseline.hpp"
#include "measure.hpp"
#include "remote.hpp"

namespace bench {

namespace {

// Tasks or calls per batch, as in Ray's microbenchmarks.
constexpr int64_t batch_size = 1000;

// 32 MiB per large put: well above the inline threshold, well below the
// store's capacity.
constexpr size_t large_doubles = size_t{4} << 20;

void usage() {
  std::cerr << "usage: caraway-bench [--quick] [--trials N] [--trial-ms MS]\n"
               "         [--only baseline|tasks|actors|objects|fib]\n"
               "         [--caraway-...]\n";
}

// Parses the bench's own flags and skips the `--caraway-...` ones (and their
// separate values), which caraway::init reads.
settings parse_flags(int argc, char** argv) {
  settings cfg;
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
    } else if (arg == "--help" || arg == "-h") {
      usage();
      std::exit(EXIT_SUCCESS);
    } else {
      throw std::invalid_argument("unknown argument: " + arg);
    }
  }
  if (!cfg.only.empty() && cfg.only != "baseline" && cfg.only != "tasks"
      && cfg.only != "actors" && cfg.only != "objects" && cfg.only != "fib")
    throw std::invalid_argument("unknown group for --only: " + cfg.only);
  if (quick) {
    // A smoke test: every code path once, numbers only indicative.
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
  return cfg;
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
  for (auto x : caraway::get(refs))
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
  for (auto x : caraway::get(refs))
    sum += x;
  expect(sum == batch_size, "call batch");
  return batch_size;
}

void run_tasks(const settings& cfg, report& out) {
  std::vector<double> latencies;
  auto sync = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] {
      auto start = clock::now();
      auto x = caraway::get(caraway::task(small_value).remote());
      latencies.emplace_back(
        std::chrono::duration<double, std::micro>(clock::now() - start)
          .count());
      expect(x == 1, "sync task");
      return 1;
    });
  });
  out.print("single_client_tasks_sync", sync, "tasks/s");
  out.print("single_client_tasks_sync_latency", median(latencies), "us");
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
  auto handle = caraway::actor<bench_actor>().remote();
  auto sync = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] {
      auto x = caraway::get(handle.task(&bench_actor::small_value).remote());
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
  auto concurrent = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length,
                          [&] { return call_batch(concurrent_handle); });
  });
  out.print("1_1_actor_calls_concurrent", concurrent, "calls/s");
  // As in Ray: n caller tasks, each spreading its calls over n actors.
  auto n
    = static_cast<int64_t>(std::max(2u, std::thread::hardware_concurrency()));
  std::vector<caraway::actor_handle<bench_actor>> handles;
  for (int64_t i = 0; i < n; ++i)
    handles.emplace_back(caraway::actor<bench_actor>().remote());
  auto n_n = median_of_trials(cfg, [&](clock::duration length) {
    return ops_per_second(length, [&] {
      std::vector<caraway::object_ref<int64_t>> callers;
      for (int64_t i = 0; i < n; ++i)
        callers.emplace_back(
          caraway::task(call_actors).remote(handles, batch_size));
      int64_t sum = 0;
      for (auto x : caraway::get(callers))
        sum += x;
      expect(sum == n * batch_size, "n:n calls");
      return sum;
    });
  });
  out.print("n_n_actor_calls_async", n_n, "calls/s");
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
      expect(caraway::get(ref) == 1, "get");
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
        auto res = caraway::wait(pending, 1);
        ready += static_cast<int64_t>(res.ready.size());
        pending = std::move(res.pending);
      }
      expect(ready == batch_size, "wait");
      return 1;
    });
  });
  out.print("single_client_wait_1k_refs", wait, "ops/s");
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

void run_fib(const settings& cfg, report& out) {
  auto n = cfg.fib_n;
  auto run_once = [&] {
    auto start = clock::now();
    auto x = caraway::get(caraway::task(fib).remote(n));
    auto seconds = seconds_since(start);
    expect(x == fib_number(n), "fib");
    return seconds;
  };
  run_once();
  // A fixed amount of work per trial: repeat while the budget lasts.
  std::vector<double> times;
  auto start = clock::now();
  do {
    times.emplace_back(run_once());
  } while (static_cast<int>(times.size()) < cfg.trials
           && clock::now() - start < cfg.fixed_budget);
  auto name = "nested_fib" + std::to_string(n);
  auto seconds = median(times);
  out.print(name + "_seconds", seconds, "s");
}

// Caraway's speed as a fraction of the matching baseline's: below 1 means
// slower than bare CAF (or memcpy).
void print_ratios(report& out, int64_t fib_n) {
  auto vs = [&](const std::string& name, const std::string& base,
                double scale = 1) {
    out.ratio(name, base, out.get(name) * scale / out.get(base));
  };
  for (auto name : {"single_client_tasks_sync", "1_1_actor_calls_sync",
                    "single_client_put_calls", "single_client_get_calls"})
    vs(name, "caf_baseline_sync");
  // Lower latency is better, so this ratio divides the other way round.
  out.ratio("single_client_tasks_sync_latency", "caf_baseline_sync_latency",
            out.get("caf_baseline_sync_latency")
              / out.get("single_client_tasks_sync_latency"));
  for (auto name : {"single_client_tasks_async", "1_1_actor_calls_async",
                    "1_1_actor_calls_concurrent", "n_n_actor_calls_async"})
    vs(name, "caf_baseline_pipelined");
  // Each batch and each wait op runs a batch of tasks.
  vs("single_client_tasks_and_get_batch", "caf_baseline_pipelined", batch_size);
  vs("single_client_wait_1k_refs", "caf_baseline_pipelined", batch_size);
  // The fib tasks per second.
  auto fib_name = "nested_fib" + std::to_string(fib_n) + "_seconds";
  out.ratio(fib_name, "caf_baseline_pipelined",
            static_cast<double>(fib_tasks(fib_n)) / out.get(fib_name)
              / out.get("caf_baseline_pipelined"));
  vs("single_client_put_gigabytes", "memcpy_baseline_gigabytes");
}

} // namespace

} // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  try {
    auto cfg = parse_flags(argc, argv);
    auto start = clock::now();
    report out;
    // Baselines first, so caraway's threads do not compete with them.
    if (cfg.runs("baseline")) {
      run_caf_baseline(cfg, out);
      run_memcpy_baseline(cfg, out, large_doubles * sizeof(double));
    }
    if (cfg.only != "baseline") {
      auto session = caraway::init(argc, argv);
      if (cfg.runs("tasks"))
        run_tasks(cfg, out);
      if (cfg.runs("actors"))
        run_actors(cfg, out);
      if (cfg.runs("objects"))
        run_objects(cfg, out);
      if (cfg.runs("fib"))
        run_fib(cfg, out);
    }
    print_ratios(out, cfg.fib_n);
    std::cerr << "caraway-bench took " << seconds_since(start) << " s\n";
  } catch (const std::exception& e) {
    std::cerr << "caraway-bench: " << e.what() << '\n';
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
