// Recycled map nodes.

#include <doctest/doctest.h>

#include <string>
#include <unordered_map>

#include "owner/node_cache.hpp"

using namespace caraway;
using owner::cached_allocator;
using owner::node_cache;

namespace {

using map_type
  = std::unordered_map<int, std::string, std::hash<int>, std::equal_to<int>,
                       cached_allocator<std::pair<const int, std::string>>>;

} // namespace

TEST_CASE("node_cache recycles a map's nodes, up to its capacity") {
  node_cache cache{3};
  map_type map{cached_allocator<std::pair<const int, std::string>>{cache}};
  for (int i = 0; i < 5; ++i)
    map.emplace(i, std::string(40, 'x'));
  CHECK(cache.size() == 0);
  for (int i = 0; i < 5; ++i)
    map.erase(i);
  // Five nodes freed, three kept: the rest went back to the heap.
  CHECK(cache.size() == 3);
  map.emplace(7, "seven");
  CHECK(cache.size() == 2);
  CHECK(map.at(7) == "seven");
  // Values in recycled nodes are whole objects again.
  for (int i = 10; i < 20; ++i)
    map.emplace(i, std::to_string(i));
  for (int i = 10; i < 20; ++i)
    CHECK(map.at(i) == std::to_string(i));
  CHECK(cache.size() == 0);
  map.clear();
  CHECK(cache.size() == 3);
}

TEST_CASE("node_cache keeps nothing with capacity 0") {
  node_cache cache{0};
  map_type map{cached_allocator<std::pair<const int, std::string>>{cache}};
  map.emplace(1, "one");
  map.erase(1);
  CHECK(cache.size() == 0);
}
