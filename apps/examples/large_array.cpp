// A large value in the object store: put 64 MiB once, read it back, let a
// task read it by ref, and watch the store free the memory when the last ref
// goes away.

#include <caraway/caraway.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <thread>
#include <vector>

/// Sums the array where it is stored instead of shipping it to the caller.
double array_sum(const std::vector<double>& xs) {
  double sum = 0;
  for (auto x : xs)
    sum += x;
  return sum;
}

CARAWAY_REMOTE(array_sum)

#ifndef CARAWAY_TASK_LIBRARY

namespace {

constexpr size_t num_elements = 64 * 1024 * 1024 / sizeof(double);

/// The element at `i`; small integers keep the sums exact in doubles.
double element(size_t i) {
  return static_cast<double>(i % 1024);
}

void print_stats(const char* when) {
  auto st = caraway::object_store_stats();
  std::cout << "store " << when << ": " << st.objects << " objects, "
            << st.used_bytes / (1024 * 1024) << " MiB used\n";
}

} // namespace

int main(int argc, char** argv) try {
  auto session = caraway::init(argc, argv);
  print_stats("before put");
  double expected = 0;
  {
    caraway::object_ref<std::vector<double>> ref;
    {
      std::vector<double> xs(num_elements);
      for (size_t i = 0; i < xs.size(); ++i)
        xs[i] = element(i);
      ref = caraway::put(xs);
      expected = array_sum(xs);
    } // The local copy is gone; only the store holds the data now.
    print_stats("after put");
    auto copy = caraway::get(ref);
    size_t mismatches = 0;
    for (size_t i = 0; i < copy.size(); ++i)
      if (copy[i] != element(i))
        ++mismatches;
    std::cout << "got " << copy.size() << " doubles ("
              << copy.size() * sizeof(double) / (1024 * 1024) << " MiB), "
              << mismatches << " mismatches\n";
    auto remote_sum = caraway::get(caraway::task(array_sum).remote(ref));
    std::cout << "checksum: local " << static_cast<int64_t>(array_sum(copy))
              << ", remote " << static_cast<int64_t>(remote_sum)
              << ", expected " << static_cast<int64_t>(expected) << '\n';
  } // The last ref dies here.
  // The array_sum task lets go of its argument just after its result is
  // delivered, so the memory may be freed a moment after this point.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (caraway::object_store_stats().objects > 0
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  print_stats("after release");
} catch (const caraway::error& e) {
  // Cannot reach the cluster, a task failed, ...: say so, not abort().
  std::cerr << "large_array: " << e.what() << '\n';
  return 1;
}

#endif
