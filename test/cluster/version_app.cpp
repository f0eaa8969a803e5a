// One program in two versions (APP_VERSION, 1 or 2), built as two apps: the
// test that each job's worker processes run their own job's code.

#include <caraway/caraway.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#define CARAWAY_STR2(x) #x
#define CARAWAY_STR(x) CARAWAY_STR2(x)

std::string version() {
  return "v" CARAWAY_STR(APP_VERSION);
}

CARAWAY_REMOTE(version)

#ifndef CARAWAY_TASK_LIBRARY
// Prints the version its task saw; with a file name, then waits until the
// file exists and asks again.
int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  auto session = caraway::init(argc, argv);
  std::cout << "version " << caraway::get(caraway::task(version).remote(), 30s)
            << std::endl;
  if (argc > 1 && std::string{argv[1]}.rfind("--", 0) != 0) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!std::ifstream{argv[1]}
           && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    std::cout << "again " << caraway::get(caraway::task(version).remote(), 30s)
              << std::endl;
  }
}
#endif
