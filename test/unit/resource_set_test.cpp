// Fitting resource sets into each other: the arithmetic every scheduling
// decision uses.

#include <doctest/doctest.h>

#include <cmath>

#include "caraway/wire/resource_set.hpp"

using caraway::wire::resource_set;

TEST_CASE("a resource set fits where every amount is covered") {
  resource_set have{{"CPU", 2}, {"ssd", 1}};
  CHECK(resource_set{{"CPU", 2}}.fits_in(have));
  CHECK(resource_set{}.fits_in(have));
  CHECK_FALSE(resource_set{{"CPU", 3}}.fits_in(have));
  CHECK_FALSE(resource_set{{"gpu", 1}}.fits_in(have)); // missing means 0
  CHECK(resource_set{{"gpu", 0}}.fits_in(have));
}

TEST_CASE("sums of fractions fit despite rounding") {
  resource_set have{{"CPU", 0.3}};
  resource_set need{{"CPU", 0.1}};
  need["CPU"] += 0.2; // 0.30000000000000004
  CHECK(need.fits_in(have));
  CHECK(resource_set{{"CPU", 0.1}}.times_in(have) == 3);
}

TEST_CASE("resource sets add up and take away") {
  resource_set avail{{"CPU", 2}};
  avail -= resource_set{{"CPU", 1.5}, {"ssd", 1}};
  CHECK(avail.amount("CPU") == doctest::Approx(0.5));
  CHECK(avail.amount("ssd") == -1);
  avail += resource_set{{"CPU", 1.5}, {"ssd", 1}};
  CHECK(avail.amount("CPU") == doctest::Approx(2));
  CHECK(avail.amount("ssd") == 0);
  CHECK(avail.amount("tpu") == 0);
}

TEST_CASE("a set asking for nothing fits any number of times") {
  CHECK(std::isinf(resource_set{}.times_in({{"CPU", 1}})));
  CHECK(resource_set{{"CPU", 1}}.times_in({}) == 0);
}
