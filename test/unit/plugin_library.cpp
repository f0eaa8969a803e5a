// A library that libraries_test.cpp loads at run time: its function is
// registered as it loads.

#include <caraway/caraway.hpp>

int64_t plugin_twice(int64_t x) {
  return 2 * x;
}

CARAWAY_REMOTE(plugin_twice)
