#include "remote.hpp"

#include <caraway/caraway.hpp>

int64_t small_value() {
  return 1;
}

int64_t fib(int64_t n) {
  if (n < 2)
    return n;
  auto a = caraway::task(fib).remote(n - 1);
  auto b = caraway::task(fib).remote(n - 2);
  return caraway::get(a) + caraway::get(b);
}

int64_t bench_actor::small_value() const {
  return 1;
}

int64_t call_actors(std::vector<caraway::actor_handle<bench_actor>> actors,
                    int64_t n) {
  std::vector<caraway::object_ref<int64_t>> refs;
  refs.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto& handle = actors[static_cast<size_t>(i) % actors.size()];
    refs.emplace_back(handle.task(&bench_actor::small_value).remote());
  }
  int64_t sum = 0;
  for (auto x : caraway::get(refs))
    sum += x;
  return sum;
}

CARAWAY_REMOTE(small_value, fib, call_actors)

CARAWAY_ACTOR(bench_actor, caraway::ctor<>, &bench_actor::small_value)
