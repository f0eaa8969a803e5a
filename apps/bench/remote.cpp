#include "remote.hpp"

#include <caraway/caraway.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

int64_t small_value() {
  return 1;
}

int64_t fib(int64_t n) {
  if (n < 2)
    return n;
  auto a = caraway::task(fib).remote(n - 1);
  auto b = caraway::task(fib).remote(n - 2);
  return caraway::get(a) + caraway::get(b);
}

int64_t bench_actor::small_value() const {
  return 1;
}

int64_t call_actors(std::vector<caraway::actor_handle<bench_actor>> actors,
                    int64_t n) {
  std::vector<caraway::object_ref<int64_t>> refs;
  refs.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    auto& handle = actors[static_cast<size_t>(i) % actors.size()];
    refs.emplace_back(handle.task(&bench_actor::small_value).remote());
  }
  int64_t sum = 0;
  for (auto x : caraway::get(refs))
    sum += x;
  return sum;
}

std::string task_node() {
  return caraway::node_id();
}

std::string sleep_on_node(int64_t ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return caraway::node_id();
}

namespace {

// Node ids have 32 hex digits.
constexpr size_t id_size = 32;

// Bytes between the sampled bytes that `read_block` checks: enough to catch
// a block that is cut short or garbled without reading all of it.
constexpr size_t check_stride = 4096;

char fill_byte(size_t i) {
  return static_cast<char>('a' + i % 26);
}

} // namespace

std::string make_block(int64_t bytes) {
  auto size = static_cast<size_t>(bytes);
  auto id = caraway::node_id();
  if (size < id_size || id.size() != id_size)
    throw std::invalid_argument("make_block: too small for the node id");
  std::string block(size, '\0');
  // One period of the pattern, then doubling copies: a per-byte loop would
  // add its own time to the transfer it is part of.
  size_t filled = std::min<size_t>(26, size);
  for (size_t i = 0; i < filled; ++i)
    block[i] = fill_byte(i);
  while (filled < size) {
    auto n = std::min(filled, size - filled);
    std::memcpy(&block[filled], block.data(), n);
    filled += n;
  }
  block.replace(0, id_size, id);
  return block;
}

std::string read_block(const std::string& block) {
  if (block.size() < id_size)
    throw std::runtime_error("read_block: the block is cut short");
  for (size_t i = id_size; i < block.size(); i += check_stride)
    if (block[i] != fill_byte(i))
      throw std::runtime_error("read_block: byte " + std::to_string(i)
                               + " is wrong");
  if (block.back() != fill_byte(block.size() - 1))
    throw std::runtime_error("read_block: the last byte is wrong");
  auto st = caraway::object_store_stats();
  return block.substr(0, id_size) + " " + caraway::node_id() + " "
         + std::to_string(block.size()) + " " + std::to_string(st.pulled_bytes)
         + " " + std::to_string(st.pull_nanoseconds);
}

CARAWAY_REMOTE(small_value, fib, call_actors, task_node, sleep_on_node,
               make_block, read_block)

CARAWAY_ACTOR(bench_actor, caraway::ctor<>, &bench_actor::small_value)

std::vector<caraway::object_ref<std::vector<double>>>
view_actor::make(int64_t n) {
  return {caraway::put(std::vector<double>(static_cast<size_t>(n), 1.0))};
}

std::string view_actor::view(
  const std::vector<caraway::object_ref<std::vector<double>>>& refs) {
  using clock = std::chrono::steady_clock;
  auto ns = [](clock::time_point since) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now()
                                                                - since)
      .count();
  };
  auto pulled = caraway::object_store_stats().pulled_objects;
  auto start = clock::now();
  auto view = caraway::get_view(refs.at(0));
  auto view_ns = ns(start);
  if (view.empty() || view[view.size() - 1] != 1.0)
    throw std::runtime_error("view_actor: the view is wrong");
  start = clock::now();
  auto copy = caraway::get(refs.at(0));
  auto get_ns = ns(start);
  if (copy.size() != view.size())
    throw std::runtime_error("view_actor: the copy is wrong");
  return std::to_string(view_ns) + " " + std::to_string(get_ns) + " "
         + std::to_string(caraway::object_store_stats().pulled_objects
                          - pulled);
}

CARAWAY_ACTOR(view_actor, caraway::ctor<>, &view_actor::make, &view_actor::view)
