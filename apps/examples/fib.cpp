// Nested tasks: every fib task submits two more and waits for them, so the
// runtime must lend a waiting task's CPU to its children.

#include <caraway/caraway.hpp>

#include <chrono>
#include <iostream>

int64_t fib(int64_t n) {
  if (n < 2)
    return n;
  auto a = caraway::task(fib).remote(n - 1);
  auto b = caraway::task(fib).remote(n - 2);
  return caraway::get(a) + caraway::get(b);
}

CARAWAY_REMOTE(fib)

#ifndef CARAWAY_TASK_LIBRARY
int main(int argc, char** argv) try {
  auto session = caraway::init(argc, argv);
  int64_t n = argc > 1 && argv[1][0] != '-' ? std::stoll(argv[1]) : 20;
  auto start = std::chrono::steady_clock::now();
  auto result = caraway::get(caraway::task(fib).remote(n));
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                               - start);
  std::cout << "fib(" << n << ") = " << result << '\n';
  std::cerr << "took " << elapsed.count() << " s\n";
} catch (const caraway::error& e) {
  // Cannot reach the cluster, a task failed, ...: say so, not abort().
  std::cerr << "fib: " << e.what() << '\n';
  return 1;
}
#endif
