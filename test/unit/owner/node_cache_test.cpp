// Recycled map nodes and heap buffers made in one allocation.

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>

#include "caraway/wire/buffer.hpp"
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

TEST_CASE("a heap buffer in one allocation holds aligned, writable bytes") {
  for (size_t size : {size_t{1}, size_t{8}, size_t{17}, size_t{4096}}) {
    auto buf = wire::make_buffer(size);
    REQUIRE(buf.get() != nullptr);
    CHECK(buf->size() == size);
    auto at = reinterpret_cast<uintptr_t>(buf->data());
    CHECK(at % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0);
    // The bytes lie beyond the buffer object, not over it.
    auto self = reinterpret_cast<uintptr_t>(buf.get());
    CHECK(at >= self + sizeof(wire::buffer));
    std::memset(buf->data(), 0xab, size);
    CHECK(static_cast<unsigned char>(buf->data()[size - 1]) == 0xab);
  }
  auto empty = wire::make_buffer(size_t{0});
  CHECK(empty->size() == 0);
  auto copy = wire::make_buffer("hello", 5);
  CHECK(std::string(copy->data(), copy->size()) == "hello");
}
