// One actor collects progress reports from many tasks. The tasks receive the
// actor's handle as an ordinary argument, so they need no global state to
// find it.

#include <caraway/caraway.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

/// Counts finished work items per worker against an expected total.
class progress_tracker {
public:
  explicit progress_tracker(int64_t total) : total_(total) {
    // nop
  }

  /// Records `items` more finished items of `worker`; returns the overall
  /// count so a reporter can tell when its reports have landed.
  int64_t report(int64_t worker, int64_t items) {
    per_worker_[worker] += items;
    done_ += items;
    return done_;
  }

  int64_t done() const {
    return done_;
  }

  int64_t total() const {
    return total_;
  }

  /// Finished items per worker; a map keeps the output ordered.
  std::map<int64_t, int64_t> per_worker() const {
    return per_worker_;
  }

private:
  int64_t total_;
  int64_t done_ = 0;
  std::map<int64_t, int64_t> per_worker_;
};

CARAWAY_ACTOR(progress_tracker, caraway::ctor<int64_t>,
              &progress_tracker::report, &progress_tracker::done,
              &progress_tracker::total, &progress_tracker::per_worker)

/// Processes `items` work items, reporting each one to `tracker`.
int64_t process_items(caraway::actor_handle<progress_tracker> tracker,
                      int64_t worker, int64_t items) {
  caraway::object_ref<int64_t> last;
  for (int64_t i = 0; i < items; ++i) {
    // Stands in for real work, so that reports from workers interleave.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    last = tracker.task(&progress_tracker::report).remote(worker, int64_t{1});
  }
  // Calls from one caller run in order: once the last report is done, all
  // of this worker's reports are, and the caller's next query sees them.
  if (last.valid())
    caraway::get(last);
  return items;
}

CARAWAY_REMOTE(process_items)

#ifndef CARAWAY_TASK_LIBRARY
int main(int argc, char** argv) try {
  auto session = caraway::init(argc, argv);
  constexpr int64_t num_workers = 4;
  constexpr int64_t items_per_worker = 25;
  auto tracker
    = caraway::actor<progress_tracker>(num_workers * items_per_worker).remote();
  std::vector<caraway::object_ref<int64_t>> jobs;
  for (int64_t w = 0; w < num_workers; ++w)
    jobs.emplace_back(
      caraway::task(process_items).remote(tracker, w, items_per_worker));
  // Poll the tracker while the workers run; wait's timeout paces the polls.
  // These counts depend on timing; the final one does not.
  auto pending = jobs;
  while (!pending.empty()) {
    auto w = caraway::wait(pending, pending.size(),
                           std::chrono::milliseconds(50));
    pending = std::move(w.pending);
    std::cout << "running: "
              << caraway::get(tracker.task(&progress_tracker::done).remote())
              << " items done, " << pending.size() << " workers not finished\n";
  }
  int64_t processed = 0;
  for (auto x : caraway::get(jobs))
    processed += x;
  auto done = caraway::get(tracker.task(&progress_tracker::done).remote());
  auto total = caraway::get(tracker.task(&progress_tracker::total).remote());
  auto per_worker
    = caraway::get(tracker.task(&progress_tracker::per_worker).remote());
  for (auto& [worker, items] : per_worker)
    std::cout << "worker " << worker << ": " << items << " items\n";
  std::cout << "tasks processed " << processed << " items\n";
  std::cout << "final progress: " << done << "/" << total << " ("
            << (total > 0 ? done * 100 / total : 0) << "%)\n";
} catch (const caraway::error& e) {
  // Cannot reach the cluster, a task failed, ...: say so, not abort().
  std::cerr << "progress_tracker: " << e.what() << '\n';
  return 1;
}
#endif
