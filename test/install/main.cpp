// Runs one task on an embedded cluster and prints its result; built against
// an installed caraway by run.sh.

#include <caraway/caraway.hpp>

#include <cstdint>
#include <iostream>

int64_t add(int64_t x, int64_t y) {
  return x + y;
}

CARAWAY_REMOTE(add)

#ifndef CARAWAY_TASK_LIBRARY
int main() {
  caraway::config cfg;
  // One CPU keeps the test light on shared CI machines.
  cfg.num_cpus = 1;
  auto session = caraway::init(cfg);
  auto sum = caraway::task(add).remote(caraway::put(int64_t{40}), 2);
  std::cout << "installed caraway: 40 + 2 = " << caraway::get(sum) << '\n';
}
#endif
