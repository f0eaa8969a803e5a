#pragma once

// A small embedded cluster for one test case.

#include <caraway/caraway.hpp>

namespace caraway::test {

/// Two CPUs and a 256 MiB object store unless a test asks for more.
inline config small_cluster(double cpus = 2) {
  config cfg;
  cfg.num_cpus = cpus;
  cfg.object_store_memory = uint64_t{256} << 20;
  return cfg;
}

} // namespace caraway::test
