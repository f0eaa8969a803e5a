// The object data path: data servers, pullers and store eviction, in one
// process over loopback sockets.

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "caraway/node/data_server.hpp"
#include "caraway/node/object_puller.hpp"
#include "caraway/node/store_memory.hpp"
#include "wait_until.hpp"

using namespace caraway;

namespace {

constexpr uint64_t mib = uint64_t{1} << 20;

wire::buffer_ptr filled(node::store_memory& mem, size_t size, char seed) {
  auto buf = mem.allocate(size);
  REQUIRE(static_cast<bool>(buf));
  for (size_t i = 0; i < size; ++i)
    buf->data()[i] = static_cast<char>(seed + i % 251);
  return buf;
}

bool same_bytes(const wire::buffer_ptr& x, const wire::buffer_ptr& y) {
  return x && y && x->size() == y->size()
         && std::memcmp(x->data(), y->data(), x->size()) == 0;
}

node::object_puller::options pull_options(std::chrono::milliseconds timeout) {
  node::object_puller::options opts;
  opts.timeout = timeout;
  return opts;
}

// Two processes' worth of stores: `a` serves, `b` pulls.
struct two_nodes {
  node::store_memory_ptr a = node::make_store_memory(64 * mib, 64 * mib);
  node::store_memory_ptr b = node::make_store_memory(64 * mib, 64 * mib);
  node::data_server server{a, [] {
                             node::data_server::options opts;
                             opts.chunk_bytes = 1 * mib; // several chunks
                             return opts;
                           }()};
  node::object_puller puller{b, pull_options(std::chrono::milliseconds(2000))};
};

// A port nothing listens on.
uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

} // namespace

TEST_CASE("a puller copies an object from another store once") {
  two_nodes nodes;
  wire::object_id id{7, 1};
  auto original = filled(*nodes.a, 9 * mib + 17, 3);
  nodes.a->seal(id, original);
  std::string why;
  auto copy = nodes.puller.fetch(id, nodes.server.address(), why);
  CHECK(why.empty());
  CHECK(same_bytes(copy, original));
  CHECK(copy.get()
        != original.get()); // a copy in b's memory, not a shared buffer
  CHECK(nodes.b->get(id).get() == copy.get());
  // A second reader uses the local copy.
  auto again = nodes.puller.fetch(id, nodes.server.address(), why);
  CHECK(again.get() == copy.get());
  CHECK(nodes.puller.pulled_objects() == 1);
  CHECK(nodes.puller.pulled_bytes() == 9 * mib + 17);
  // The server counts an object once its last byte is sent, which may be
  // just after the reader has it.
  CHECK(test::wait_until([&] { return nodes.server.served_objects() == 1; }));
}

TEST_CASE("readers asking at the same time share one pull") {
  two_nodes nodes;
  wire::object_id id{7, 2};
  auto original = filled(*nodes.a, 16 * mib, 5);
  nodes.a->seal(id, original);
  std::vector<wire::buffer_ptr> results(4);
  std::vector<std::thread> readers;
  for (size_t i = 0; i < results.size(); ++i)
    readers.emplace_back([&, i] {
      std::string why;
      results[i] = nodes.puller.fetch(id, nodes.server.address(), why);
    });
  for (auto& t : readers)
    t.join();
  for (auto& r : results)
    CHECK(same_bytes(r, original));
  CHECK(nodes.puller.pulled_objects() == 1);
  // The server counts an object once its last byte is sent, which may be
  // just after the reader has it.
  CHECK(test::wait_until([&] { return nodes.server.served_objects() == 1; }));
}

TEST_CASE("a pull from a peer that never answers gives up at its deadline") {
  // A listening socket nobody serves: the kernel accepts the connection,
  // then nothing is ever sent, as from a frozen node.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto store = node::make_store_memory(mib, mib);
  // Left alone it would wait 30 s for an answer.
  node::object_puller puller{store,
                             pull_options(std::chrono::milliseconds(30000))};
  std::string why;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::milliseconds(200);
  CHECK_FALSE(static_cast<bool>(
    puller.fetch({7, 9}, address, why, nullptr, deadline)));
  CHECK(why.find("no answer") != std::string::npos);
  // Bounded well above the deadline: this checks that the pull gives up,
  // not how fast.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  ::close(fd);
}

TEST_CASE("a pull fails with a clear error") {
  two_nodes nodes;
  std::string why;
  SUBCASE("when the node does not have the object") {
    CHECK_FALSE(static_cast<bool>(
      nodes.puller.fetch({7, 3}, nodes.server.address(), why)));
    CHECK(why.find("no longer has it") != std::string::npos);
    CHECK(why.find(nodes.server.address()) != std::string::npos);
  }
  SUBCASE("when nothing listens at the address") {
    auto address = "127.0.0.1:" + std::to_string(closed_port());
    CHECK_FALSE(static_cast<bool>(nodes.puller.fetch({7, 3}, address, why)));
    CHECK(why.find("cannot pull object") != std::string::npos);
  }
  SUBCASE("when the address is malformed") {
    CHECK_FALSE(static_cast<bool>(nodes.puller.fetch({7, 3}, "no-port", why)));
    CHECK(why.find("host:port") != std::string::npos);
  }
  SUBCASE("when the local store has no room") {
    wire::object_id id{7, 4};
    nodes.a->seal(id, filled(*nodes.a, 40 * mib, 1));
    auto hog = nodes.b->allocate(40 * mib);
    REQUIRE(static_cast<bool>(hog));
    CHECK_FALSE(
      static_cast<bool>(nodes.puller.fetch(id, nodes.server.address(), why)));
    CHECK(why.find("no room") != std::string::npos);
  }
  CHECK(nodes.puller.pulled_objects() == 0);
}

TEST_CASE("a data server drops a connection sending garbage, serves others") {
  two_nodes nodes;
  wire::object_id id{7, 5};
  auto original = filled(*nodes.a, 2 * mib, 9);
  nodes.a->seal(id, original);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(nodes.server.port());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  std::string garbage(64, 'x');
  REQUIRE(::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL) > 0);
  char byte;
  // The server closes the connection instead of answering.
  CHECK(::recv(fd, &byte, 1, 0) == 0);
  ::close(fd);
  std::string why;
  CHECK(
    same_bytes(nodes.puller.fetch(id, nodes.server.address(), why), original));
}

TEST_CASE("a full store evicts secondary copies, never primary ones") {
  auto mem_ptr = node::make_store_memory(10 * mib, 0);
  auto& mem = *mem_ptr;
  wire::object_id primary{1, 1};
  wire::object_id secondary{1, 2};
  mem.seal(primary, mem.allocate(4 * mib));
  mem.seal(secondary, mem.allocate(4 * mib), /*primary=*/false);
  SUBCASE("an unused secondary copy makes room") {
    CHECK(mem.get_stats().evicted_objects == 0);
    CHECK(static_cast<bool>(mem.allocate(4 * mib)));
    CHECK_FALSE(static_cast<bool>(mem.get(secondary)));
    CHECK(static_cast<bool>(mem.get(primary)));
    // Counted, for the node's metrics.
    CHECK(mem.get_stats().evicted_objects == 1);
    CHECK(mem.get_stats().evicted_bytes == 4 * mib);
  }
  SUBCASE("primary copies and copies in use stay") {
    auto reader = mem.get(secondary);
    CHECK_FALSE(static_cast<bool>(mem.allocate(4 * mib)));
    CHECK(static_cast<bool>(mem.get(primary)));
  }
}
