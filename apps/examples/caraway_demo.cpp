// A tour of caraway: tasks, nested tasks, actors, large objects, waiting
// with a timeout and errors, each printing what happened.

#include <caraway/caraway.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// -- remote functions ---------------------------------------------------------

int64_t square(int64_t x) {
  return x * x;
}

/// Each call submits two more tasks and waits for them.
int64_t fib(int64_t n) {
  if (n < 2)
    return n;
  auto a = caraway::task(fib).remote(n - 1);
  auto b = caraway::task(fib).remote(n - 2);
  return caraway::get(a) + caraway::get(b);
}

double sum(const std::vector<double>& xs) {
  double result = 0;
  for (auto x : xs)
    result += x;
  return result;
}

int64_t sleep_then_return(int64_t ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

int64_t checked_sqrt(int64_t x) {
  if (x < 0)
    throw std::domain_error("no square root of " + std::to_string(x));
  int64_t r = 0;
  while ((r + 1) * (r + 1) <= x)
    ++r;
  return r;
}

CARAWAY_REMOTE(square, fib, sum, sleep_then_return, checked_sqrt)

// -- an actor -----------------------------------------------------------------

/// A counter whose state lives as long as the actor.
class counter {
public:
  explicit counter(int64_t start) : value_(start) {
    // nop
  }

  int64_t add(int64_t n) {
    value_ += n;
    return value_;
  }

  int64_t value() const {
    return value_;
  }

private:
  int64_t value_;
};

CARAWAY_ACTOR(counter, caraway::ctor<int64_t>, &counter::add, &counter::value)

#ifndef CARAWAY_TASK_LIBRARY

namespace {

void section(const char* title) {
  std::cout << "\n== " << title << " ==\n";
}

void demo_tasks() {
  section("tasks");
  std::vector<caraway::object_ref<int64_t>> refs;
  for (int64_t i = 0; i < 10; ++i)
    refs.emplace_back(caraway::task(square).remote(i));
  int64_t total = 0;
  for (auto x : caraway::get(refs))
    total += x;
  std::cout << "sum of squares 0..9 from 10 tasks = " << total << '\n';
}

void demo_nested_tasks() {
  section("nested tasks");
  std::cout << "fib(15) = " << caraway::get(caraway::task(fib).remote(15))
            << " (each call submits two more tasks)\n";
}

void demo_actors() {
  section("actors");
  auto c = caraway::actor<counter>(int64_t{100}).name("demo_counter").remote();
  for (int64_t i = 1; i <= 5; ++i)
    c.task(&counter::add).remote(i);
  // Calls from one caller run in order, so this sees all five adds.
  std::cout << "counter after adding 1..5 to 100 = "
            << caraway::get(c.task(&counter::value).remote()) << '\n';
  if (auto found = caraway::get_actor<counter>("demo_counter"))
    std::cout << "found \"demo_counter\" by name, value = "
              << caraway::get(found->task(&counter::value).remote()) << '\n';
  caraway::kill(c);
  try {
    caraway::get(c.task(&counter::value).remote());
  } catch (const caraway::actor_died_error&) {
    std::cout << "after kill, calls fail with actor_died_error\n";
  }
}

void demo_objects() {
  section("objects");
  // 16 MiB is far above the inline threshold: it goes to the object store,
  // and the task below reads it from there by ref.
  std::vector<double> xs(2 * 1024 * 1024, 0.5);
  auto ref = caraway::put(xs);
  auto st = caraway::object_store_stats();
  std::cout << "put " << xs.size() * sizeof(double) / (1024 * 1024)
            << " MiB, store holds " << st.used_bytes / (1024 * 1024)
            << " MiB\n";
  auto total = caraway::get(caraway::task(sum).remote(ref));
  std::cout << "sum computed by a task from the ref = "
            << static_cast<int64_t>(total) << '\n';
  std::cout << "get returned " << caraway::get(ref).size() << " doubles\n";
}

void demo_wait() {
  section("wait with a timeout");
  // Two quick tasks first: in a cluster the timings below then measure the
  // tasks, not worker processes starting (slower on a loaded machine).
  caraway::get(std::vector<caraway::object_ref<int64_t>>{
    caraway::task(sleep_then_return).remote(0),
    caraway::task(sleep_then_return).remote(0)});
  std::vector<caraway::object_ref<int64_t>> refs{
    caraway::task(sleep_then_return).remote(10),
    caraway::task(sleep_then_return).remote(1500)};
  auto w = caraway::wait(refs, 2, std::chrono::milliseconds(500));
  std::cout << "after 500 ms: " << w.ready.size() << " ready, "
            << w.pending.size() << " pending\n";
  try {
    caraway::get(w.pending.at(0), std::chrono::milliseconds(100));
  } catch (const caraway::timeout_error&) {
    std::cout << "get with a 100 ms timeout threw timeout_error\n";
  }
  std::cout << "slow task finished: slept " << caraway::get(w.pending.at(0))
            << " ms\n";
}

void demo_errors() {
  section("errors");
  std::cout << "checked_sqrt(49) = "
            << caraway::get(caraway::task(checked_sqrt).remote(49)) << '\n';
  try {
    caraway::get(caraway::task(checked_sqrt).remote(-4));
  } catch (const caraway::task_error& e) {
    std::cout << "checked_sqrt(-4) threw " << e.type_name() << ": "
              << e.message() << '\n';
  }
}

} // namespace

int main(int argc, char** argv) try {
  auto session = caraway::init(argc, argv);
  auto start = std::chrono::steady_clock::now();
  demo_tasks();
  demo_nested_tasks();
  demo_actors();
  demo_objects();
  demo_wait();
  demo_errors();
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now()
                                          - start;
  // Timing goes to stderr, keeping stdout the same on every run.
  std::cerr << "\ntook " << elapsed.count() << " s\n";
  std::cout << "\ndemo complete\n";
} catch (const caraway::error& e) {
  // Cannot reach the cluster, a task failed, ...: say so, not abort().
  std::cerr << "caraway_demo: " << e.what() << '\n';
  return 1;
}

#endif
