// Built as its own program: the duplicate registration below poisons every
// init() in the process, which is the behaviour under test.

#include <doctest/doctest.h>

#include "test_session.hpp"

namespace first {
int64_t twin(int64_t x) {
  return x;
}
} // namespace first

namespace second {
int64_t twin(int64_t x) {
  return x + 1;
}
} // namespace second

namespace {
using first::twin;
}

CARAWAY_REMOTE(twin)

namespace dup {
using second::twin;
CARAWAY_REMOTE(twin)
} // namespace dup

TEST_CASE("registering two functions under one name fails at init") {
  try {
    auto s = caraway::init(caraway::test::small_cluster());
    FAIL("init accepted a duplicate registration");
  } catch (const caraway::registration_error& e) {
    CHECK(std::string{e.what()}.find("'twin' is registered twice")
          != std::string::npos);
  }
}
