// Fuzzes both ends of the object data path over loopback sockets. Even
// first byte: the input is what a client sends a data server, which must
// answer or close, never crash, and keep serving. Odd: the input is what a
// data server answers a puller, which must fail with a reason or store an
// object of the announced size, never more.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "caraway/node/data_server.hpp"
#include "caraway/node/object_puller.hpp"
#include "caraway/node/store_memory.hpp"

using namespace caraway;

namespace {

constexpr uint64_t mib = uint64_t{1} << 20;

int dial(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (fd < 0
      || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    abort();
  return fd;
}

// Reads until the peer closes; false if it neither closes nor sends for 5 s.
// libFuzzer's timeout alarm interrupts the wait now and then: it goes on.
bool drain(int fd) {
  char buf[4096];
  pollfd pfd{fd, POLLIN, 0};
  for (;;) {
    auto rc = ::poll(&pfd, 1, 5000);
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc <= 0)
      return false;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      return true;
  }
}

struct server_side {
  node::store_memory_ptr store = node::make_store_memory(4 * mib, 4 * mib);
  node::data_server server{store, [] {
                             node::data_server::options opts;
                             opts.idle_timeout = std::chrono::seconds(5);
                             return opts;
                           }()};

  server_side() {
    // One object a request may name: id {1, 1}.
    auto buf = store->allocate(1000);
    store->seal({1, 1}, buf);
  }
};

void feed_server(const uint8_t* data, size_t size) {
  static server_side side;
  int fd = dial(side.server.port());
  size_t sent = 0;
  while (sent < size) {
    auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  if (!drain(fd))
    abort(); // the server neither answered to the end nor closed
  ::close(fd);
}

// One listening socket for every input: a fresh port per input would run
// out of ports, each held in TIME_WAIT after its connection.
int fake_server_socket(uint16_t& port) {
  static uint16_t bound_port = 0;
  static int listener = [] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd < 0
        || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
        || ::listen(fd, 4) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      abort();
    bound_port = ntohs(addr.sin_port);
    return fd;
  }();
  port = bound_port;
  return listener;
}

// A server answering the puller's request with `data`, once.
void feed_puller(const uint8_t* data, size_t size) {
  uint16_t port = 0;
  int listener = fake_server_socket(port);
  std::thread peer{[&] {
    int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0)
      return;
    char request[20];
    ::recv(fd, request, sizeof(request), MSG_WAITALL);
    ::send(fd, data, size, MSG_NOSIGNAL);
    ::close(fd);
  }};
  auto store = node::make_store_memory(4 * mib, 4 * mib);
  node::object_puller::options opts;
  opts.timeout = std::chrono::seconds(5);
  node::object_puller puller{store, opts};
  std::string why;
  auto got = puller.fetch({2, 2}, "127.0.0.1:" + std::to_string(port), why);
  peer.join();
  if (got) {
    // Status ok, then an 8-byte size, then at least that many bytes.
    if (size < 9 || data[0] != 0 || !why.empty())
      abort();
    uint64_t announced = 0;
    for (size_t i = 1; i < 9; ++i)
      announced = (announced << 8) | data[i];
    if (got->size() != announced || announced > size - 9)
      abort();
  } else if (why.empty()) {
    abort(); // a failure must say why
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  if (data[0] % 2 == 0)
    feed_server(data + 1, size - 1);
  else
    feed_puller(data + 1, size - 1);
  return 0;
}
