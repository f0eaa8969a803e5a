// The node's object store in shared memory: the allocator over a segment,
// and workers' clients on its Unix socket (here in one process, each client
// mapping the segment anew, as a worker process does).

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "caraway/node/shared_store.hpp"
#include "caraway/node/store_memory.hpp"
#include "wait_until.hpp"

using namespace caraway;
using caraway::test::wait_until;

namespace {

constexpr uint64_t mib = uint64_t{1} << 20;

std::shared_ptr<node::shm_segment> segment_of(uint64_t size) {
  std::string why;
  auto seg = node::shm_segment::create(size, why);
  INFO(why);
  REQUIRE(seg);
  return seg;
}

void fill(const wire::buffer_ptr& buf, char seed) {
  for (size_t i = 0; i < buf->size(); ++i)
    buf->data()[i] = static_cast<char>(seed + i % 251);
}

bool has_fill(const wire::buffer_ptr& buf, char seed) {
  for (size_t i = 0; i < buf->size(); ++i)
    if (buf->data()[i] != static_cast<char>(seed + i % 251))
      return false;
  return true;
}

// A node's store served on a socket in a fresh directory.
struct served_store {
  std::string dir = [] {
    char tmpl[] = "/tmp/caraway-store-test-XXXXXX";
    auto made = ::mkdtemp(tmpl);
    REQUIRE(made != nullptr);
    return std::string{made};
  }();
  std::shared_ptr<node::shm_segment> segment = segment_of(16 * mib);
  node::store_memory_ptr store = node::make_shared_store_memory(segment);
  node::store_server server{store, segment, dir + "/store.sock"};

  ~served_store() {
    server.stop();
    std::filesystem::remove_all(dir);
  }

  node::store_memory_ptr client() {
    std::string why;
    auto result = node::connect_store(server.path(), why);
    INFO(why);
    REQUIRE(result);
    return result;
  }

  uint64_t used() const {
    return store->get_stats().used_bytes;
  }
};

} // namespace

TEST_CASE("a shared store allocates within its segment and merges what is "
          "freed") {
  auto seg = segment_of(4 * mib);
  auto mem = node::make_shared_store_memory(seg);
  std::vector<wire::buffer_ptr> parts;
  for (int i = 0; i < 4; ++i) {
    parts.push_back(mem->allocate(mib));
    REQUIRE(parts.back());
    CHECK(seg->holds(parts.back()->data(), mib));
    // Aligned to cache lines, so any value type is aligned too.
    CHECK(reinterpret_cast<uintptr_t>(parts.back()->data()) % 64 == 0);
  }
  CHECK_FALSE(mem->allocate(1));
  CHECK(mem->get_stats().used_bytes == 4 * mib);
  CHECK(mem->get_stats().capacity_bytes == 4 * mib);
  // Freed in an order that needs merging on both sides.
  parts[1].reset();
  parts[3].reset();
  parts[2].reset();
  parts[0].reset();
  CHECK(mem->get_stats().used_bytes == 0);
  auto whole = mem->allocate(4 * mib);
  REQUIRE(whole);
  CHECK(whole->data() == seg->base());
}

TEST_CASE("a full shared store evicts secondary copies, never primary ones") {
  auto mem = node::make_shared_store_memory(segment_of(10 * mib));
  wire::object_id primary{1, 1};
  wire::object_id secondary{1, 2};
  mem->seal(primary, mem->allocate(4 * mib));
  mem->seal(secondary, mem->allocate(4 * mib), /*primary=*/false);
  CHECK(static_cast<bool>(mem->allocate(4 * mib)));
  CHECK_FALSE(static_cast<bool>(mem->get(secondary)));
  CHECK(static_cast<bool>(mem->get(primary)));
}

TEST_CASE("workers share a node's store: one seals, another reads the same "
          "memory") {
  served_store node;
  auto maker = node.client();
  auto reader = node.client();
  wire::object_id id{7, 1};
  {
    auto buf = maker->allocate(3 * mib);
    REQUIRE(buf);
    fill(buf, 5);
    maker->seal(id, buf);
  }
  // The node finds it, as its data server does for other nodes.
  auto here = node.store->get(id);
  REQUIRE(here);
  CHECK(has_fill(here, 5));
  auto seen = reader->get(id);
  REQUIRE(seen);
  CHECK(seen->size() == 3 * mib);
  CHECK(has_fill(seen, 5));
  // No copy: a write to the node's memory shows in the reader's view.
  here->data()[0] = 42;
  CHECK(seen->data()[0] == 42);
  auto st = reader->get_stats();
  CHECK(st.objects == 1);
  CHECK(st.used_bytes >= 3 * mib);
  CHECK(st.capacity_bytes == 16 * mib);
  CHECK_FALSE(reader->get(wire::object_id{7, 2}));
}

TEST_CASE("an object read by a worker stays until the worker lets go, even "
          "once released") {
  served_store node;
  auto maker = node.client();
  auto reader = node.client();
  wire::object_id id{8, 1};
  auto buf = maker->allocate(2 * mib);
  REQUIRE(buf);
  fill(buf, 9);
  maker->seal(id, buf);
  buf.reset();
  auto seen = reader->get(id);
  REQUIRE(seen);
  maker->release(id);
  CHECK(wait_until([&] { return node.store->get_stats().objects == 0; }));
  // The reader still holds the memory: nothing else may have it meanwhile.
  CHECK(node.used() == 2 * mib);
  CHECK_FALSE(node.store->allocate(15 * mib));
  CHECK(has_fill(seen, 9));
  seen.reset();
  CHECK(wait_until([&] { return node.used() == 0; }));
}

TEST_CASE("a worker that dies leaks nothing: what it did not seal is freed") {
  served_store node;
  auto keeper = node.client();
  wire::object_id sealed{9, 1};
  {
    auto worker = node.client();
    auto unsealed = worker->allocate(5 * mib);
    REQUIRE(unsealed);
    auto done = worker->allocate(mib);
    REQUIRE(done);
    fill(done, 3);
    worker->seal(sealed, done);
    CHECK(node.used() >= 6 * mib);
    // The worker's buffers outlive its connection: dropping the client
    // closes it, as a crash would.
    worker.reset();
    CHECK(wait_until([&] { return node.server.connections() == 1; }));
    unsealed.reset();
    done.reset();
  }
  CHECK(node.used() < 2 * mib);
  auto kept = keeper->get(sealed);
  REQUIRE(kept);
  CHECK(has_fill(kept, 3));
}

TEST_CASE("a store connection that sends garbage is closed; the store goes "
          "on serving") {
  served_store node;
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, node.server.path().c_str());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
          == 0);
  std::vector<char> junk(40, '\x7f');
  REQUIRE(::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL) == 40);
  char byte;
  // First the segment's size arrives, then the end of the connection.
  ::recv(fd, &byte, 1, 0);
  CHECK(wait_until([&] { return node.server.connections() == 0; }));
  ::close(fd);
  auto client = node.client();
  CHECK(client->get_stats().capacity_bytes == 16 * mib);
}

TEST_CASE("a store client names an unreachable store") {
  std::string why;
  CHECK_FALSE(node::connect_store("/nonexistent/caraway/store.sock", why));
  CHECK(why.find("/nonexistent/caraway/store.sock") != std::string::npos);
}

TEST_CASE("a store closes connections its peer check refuses, and serves on") {
  auto dir = std::filesystem::temp_directory_path()
             / "caraway-store-peer-XXXXXX";
  auto text = dir.string();
  REQUIRE(::mkdtemp(text.data()) != nullptr);
  auto segment = segment_of(4 * mib);
  std::atomic<bool> allow{false};
  std::atomic<pid_t> seen_pid{0};
  std::atomic<uid_t> seen_uid{0};
  node::store_server server{
    node::make_shared_store_memory(segment), segment, text + "/store.sock",
    [&](const node::store_peer& peer, std::string& why) {
      seen_pid = peer.pid;
      seen_uid = peer.uid;
      why = "not allowed here";
      return allow.load();
    }};
  std::string why;
  CHECK_FALSE(node::connect_store(server.path(), why));
  CHECK_FALSE(why.empty());
  // The kernel names this process as the peer.
  CHECK(seen_pid.load() == ::getpid());
  CHECK(seen_uid.load() == ::getuid());
  allow = true;
  why.clear();
  auto client = node::connect_store(server.path(), why);
  CHECK(static_cast<bool>(client));
  CHECK(why.empty());
  client.reset();
  server.stop();
  std::filesystem::remove_all(text);
}

TEST_CASE("a node's store takes only its own children of its own user") {
  std::string why;
  // This process is not its own child.
  CHECK_FALSE(node::own_child({::getpid(), ::getuid()}, why));
  CHECK(why.find("not a worker process") != std::string::npos);
  int gate[2];
  REQUIRE(::pipe(gate) == 0);
  auto child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Waits for the parent to close the pipe; async-signal-safe calls only.
    char byte;
    ::close(gate[1]);
    while (::read(gate[0], &byte, 1) < 0) {
    }
    ::_exit(0);
  }
  ::close(gate[0]);
  why.clear();
  CHECK(node::own_child({child, ::getuid()}, why));
  CHECK(why.empty());
  CHECK_FALSE(node::own_child({child, ::getuid() + 1}, why));
  CHECK(why.find("user") != std::string::npos);
  ::close(gate[1]);
  int status = 0;
  CHECK(::waitpid(child, &status, 0) == child);
}
