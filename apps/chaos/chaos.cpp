// The driver of the chaos run (chaos.sh): a mixed workload on a cluster
// whose workers are killed and restarted while it runs. Every result is
// checked; at the end it prints how many came back right, wrong, lost (an
// error) or not at all (a get that timed out), and how long the cluster took
// to serve worker tasks again after each kill.
//
//   caraway-chaos SECONDS KILL_LOG --caraway-address HOST:PORT
//
// KILL_LOG is the file the killer appends the time of each kill to
// (milliseconds since the epoch, one per line).

#include <caraway/caraway.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <mutex>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::system_clock;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

// Only workers have "pool": every task and actor runs where the kills are.
const std::map<std::string, double> on_workers{{"pool", 1}};

} // namespace

int64_t work(int64_t i) {
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return i * 3 + 1;
}

// 1 MiB, kept in the store of the worker that made it: lost with it.
std::vector<double> make_block(int64_t seed) {
  std::vector<double> result(size_t{1} << 17);
  std::iota(result.begin(), result.end(), static_cast<double>(seed));
  return result;
}

double sum_block(const std::vector<double>& xs) {
  return std::accumulate(xs.begin(), xs.end(), 0.0);
}

class echo {
public:
  int64_t twice(int64_t x) {
    ++calls_;
    return 2 * x;
  }

private:
  int64_t calls_ = 0;
};

CARAWAY_REMOTE(work, make_block, sum_block)
CARAWAY_ACTOR(echo, caraway::ctor<>, &echo::twice)

#ifndef CARAWAY_TASK_LIBRARY
namespace {

struct tally {
  int64_t ok = 0;
  int64_t lost = 0;
  int64_t wrong = 0;
  int64_t hangs = 0;
  std::string first_error;

  template <class T, class F>
  void check(const caraway::object_ref<T>& ref, F&& right) {
    try {
      if (right(caraway::get(ref, std::chrono::seconds(60))))
        ++ok;
      else
        ++wrong;
    } catch (const caraway::timeout_error& e) {
      ++hangs;
      note(e);
    } catch (const caraway::error& e) {
      ++lost;
      note(e);
    }
  }

  void note(const std::exception& e) {
    if (first_error.empty())
      first_error = e.what();
  }
};

// Expected sum of make_block(seed).
double block_sum(int64_t seed) {
  double n = static_cast<double>(size_t{1} << 17);
  return n * static_cast<double>(seed) + n * (n - 1) / 2;
}

} // namespace

int main(int argc, char** argv) {
  auto session = caraway::init(argc, argv);
  if (argc < 3) {
    std::cerr << "usage: caraway-chaos SECONDS KILL_LOG --caraway-address "
                 "HOST:PORT\n";
    return 2;
  }
  auto seconds = std::stoll(argv[1]);
  std::string kill_log = argv[2];
  constexpr int64_t max_tasks = 10000;
  constexpr int num_actors = 20;
  auto start = now_ms();
  auto end = start + seconds * 1000;

  // A probe: one small worker task at a time, to see when the cluster
  // serves worker tasks again after a kill.
  std::atomic<bool> done{false};
  std::mutex probe_mtx;
  std::vector<std::pair<int64_t, int64_t>> probes; // submitted, finished
  std::thread prober{[&] {
    while (!done.load()) {
      auto submitted = now_ms();
      try {
        auto r = caraway::task(work).resources(on_workers).max_retries(-1)
                   .remote(int64_t{1});
        caraway::get(r, std::chrono::seconds(60));
        std::lock_guard<std::mutex> guard{probe_mtx};
        probes.emplace_back(submitted, now_ms());
      } catch (const caraway::error&) {
        // Counted by the main workload; the probe only times recovery.
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }};

  std::vector<caraway::actor_handle<echo>> actors;
  for (int i = 0; i < num_actors; ++i)
    actors.emplace_back(caraway::actor<echo>()
                          .resources({{"pool", 0.01}})
                          .max_restarts(-1)
                          .max_task_retries(-1)
                          .remote());
  tally t;
  int64_t tasks = 0;
  int64_t round = 0;
  while (now_ms() < end && tasks < max_tasks) {
    // Tasks with retries: a kill costs them a retry, not a result.
    std::vector<caraway::object_ref<int64_t>> refs;
    for (int i = 0; i < 200 && tasks < max_tasks; ++i, ++tasks)
      refs.emplace_back(caraway::task(work)
                          .resources(on_workers)
                          .max_retries(5)
                          .remote(tasks));
    // Objects on workers, read by other tasks: a lost one is made again.
    std::vector<caraway::object_ref<std::vector<double>>> blocks;
    std::vector<caraway::object_ref<double>> sums;
    for (int64_t b = 0; b < 4; ++b) {
      blocks.emplace_back(caraway::task(make_block)
                            .resources(on_workers)
                            .max_retries(5)
                            .remote(round * 4 + b));
      sums.emplace_back(caraway::task(sum_block)
                          .resources(on_workers)
                          .max_retries(5)
                          .remote(blocks.back()));
    }
    std::vector<caraway::object_ref<int64_t>> calls;
    for (auto& a : actors)
      calls.emplace_back(a.task(&echo::twice).remote(round));
    int64_t first = tasks - static_cast<int64_t>(refs.size());
    for (size_t i = 0; i < refs.size(); ++i) {
      auto expected = (first + static_cast<int64_t>(i)) * 3 + 1;
      t.check(refs[i], [&](int64_t x) { return x == expected; });
    }
    for (int64_t b = 0; b < 4; ++b) {
      auto expected = block_sum(round * 4 + b);
      t.check(sums[static_cast<size_t>(b)],
              [&](double x) { return x == expected; });
    }
    for (auto& call : calls)
      t.check(call, [&](int64_t x) { return x == 2 * round; });
    ++round;
  }
  done = true;
  prober.join();

  // Recovery: from each kill to the end of the first probe sent after it.
  std::vector<int64_t> recoveries;
  std::ifstream log{kill_log};
  for (int64_t kill; log >> kill;) {
    for (auto& [submitted, finished] : probes) {
      if (submitted >= kill) {
        recoveries.push_back(finished - kill);
        break;
      }
    }
  }
  std::sort(recoveries.begin(), recoveries.end());
  std::cout << "chaos_seconds " << (now_ms() - start) / 1000 << '\n'
            << "chaos_tasks " << tasks << '\n'
            << "chaos_results_ok " << t.ok << '\n'
            << "chaos_results_lost " << t.lost << '\n'
            << "chaos_wrong_values " << t.wrong << '\n'
            << "chaos_hangs " << t.hangs << '\n'
            << "chaos_kills_timed " << recoveries.size() << '\n';
  if (!recoveries.empty())
    std::cout << "chaos_recovery_median_ms "
              << recoveries[recoveries.size() / 2] << '\n'
              << "chaos_recovery_max_ms " << recoveries.back() << '\n';
  if (!t.first_error.empty())
    std::cout << "chaos_first_error " << t.first_error << '\n';
  return t.lost == 0 && t.wrong == 0 && t.hangs == 0 ? 0 : 1;
}
#endif
