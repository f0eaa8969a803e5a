#include "socket_io.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "caraway/log.hpp"

namespace caraway::node::data {

void encode_u64(uint64_t x, char* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(x & 0xFF);
    x >>= 8;
  }
}

uint64_t decode_u64(const char* in) {
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i)
    x = (x << 8) | static_cast<uint8_t>(in[i]);
  return x;
}

void encode_request(const wire::object_id& id, char* out) {
  std::memcpy(out, magic, 4);
  encode_u64(id.hi, out + 4);
  encode_u64(id.lo, out + 12);
}

bool decode_request(const char* in, wire::object_id& id) {
  if (std::memcmp(in, magic, 4) != 0)
    return false;
  id.hi = decode_u64(in + 4);
  id.lo = decode_u64(in + 12);
  return true;
}

namespace {

// Repeats `io` (send or recv) until `size` bytes moved; false on an error or
// a closed peer.
template <class Char, class F>
bool transfer_all(Char* data, size_t size, F io) {
  while (size > 0) {
    auto n = io(data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

} // namespace

bool send_all(int fd, const char* data, size_t size) {
  return transfer_all(data, size, [fd](const char* p, size_t n) {
    return ::send(fd, p, n, MSG_NOSIGNAL);
  });
}

bool recv_all(int fd, char* data, size_t size) {
  return transfer_all(data, size,
                      [fd](char* p, size_t n) { return ::recv(fd, p, n, 0); });
}

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

std::string last_error() {
  return std::strerror(errno);
}

namespace {

struct addrinfo_list {
  addrinfo* head = nullptr;
  ~addrinfo_list() {
    if (head != nullptr)
      freeaddrinfo(head);
  }
};

bool resolve(const std::string& host, uint16_t port, bool passive,
             addrinfo_list& out, std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive)
    hints.ai_flags = AI_PASSIVE;
  auto service = std::to_string(port);
  auto rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(),
                        &hints, &out.head);
  if (rc != 0) {
    why = "cannot resolve '" + host + "': " + gai_strerror(rc);
    return false;
  }
  return true;
}

// Waits for a non-blocking connect to finish; a signal does not cut the
// wait short.
bool finish_connect(int fd, std::chrono::milliseconds timeout,
                    std::string& why) {
  pollfd pfd{fd, POLLOUT, 0};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int rc;
  do {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    rc = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) {
    why = "connection timed out";
    return false;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0
      || err != 0) {
    why = std::strerror(rc < 0 ? errno : err);
    return false;
  }
  return true;
}

} // namespace

namespace {

// Tries `use` on a fresh socket for each address of host:port until it
// keeps one; returns it, or -1 with the last reason in `why`.
template <class F>
int first_socket(const std::string& host, uint16_t port, bool passive,
                 std::string& why, F use) {
  addrinfo_list addrs;
  if (!resolve(host, port, passive, addrs, why))
    return -1;
  for (auto ai = addrs.head; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                      ai->ai_protocol);
    if (fd < 0) {
      why = last_error();
      continue;
    }
    if (use(fd, ai))
      return fd;
    ::close(fd);
  }
  return -1;
}

} // namespace

int connect_to(const std::string& host, uint16_t port,
               std::chrono::milliseconds timeout, std::string& why) {
  return first_socket(host, port, false, why, [&](int fd, addrinfo* ai) {
    auto flags = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    auto rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno != EINPROGRESS) {
      why = last_error();
      return false;
    }
    if (rc != 0 && !finish_connect(fd, timeout, why))
      return false;
    fcntl(fd, F_SETFL, flags);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return true;
  });
}

int listen_on(const std::string& host, uint16_t port, std::string& why) {
  return first_socket(host, port, true, why, [&](int fd, addrinfo* ai) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
      why = last_error();
      return false;
    }
    return true;
  });
}

uint16_t local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  if (addr.ss_family == AF_INET)
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

acceptor::acceptor(int listen_fd, size_t limit, std::function<void(int)> serve,
                   std::string what)
  : listen_fd_(listen_fd),
    limit_(limit),
    serve_(std::move(serve)),
    what_(std::move(what)) {
  thread_ = std::thread{[this] { loop(); }};
}

acceptor::~acceptor() {
  stop();
}

size_t acceptor::connections() const {
  std::lock_guard<std::mutex> guard{mtx_};
  size_t n = 0;
  for (auto& conn : conns_)
    if (!conn.done.load())
      ++n;
  return n;
}

void acceptor::stop() {
  if (stopping_.exchange(true))
    return;
  if (thread_.joinable())
    thread_.join();
  ::close(listen_fd_);
  std::list<connection> conns;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& conn : conns_)
      ::shutdown(conn.fd, SHUT_RDWR);
    conns.splice(conns.end(), conns_);
  }
  for (auto& conn : conns) {
    conn.worker.join();
    ::close(conn.fd);
  }
}

void acceptor::reap() {
  for (auto i = conns_.begin(); i != conns_.end();) {
    if (i->done.load()) {
      i->worker.join();
      ::close(i->fd);
      i = conns_.erase(i);
    } else {
      ++i;
    }
  }
}

void acceptor::loop() {
  while (!stopping_.load()) {
    // Polls with a timeout so that stop() needs no wake-up channel.
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0)
      continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
      continue;
    std::lock_guard<std::mutex> guard{mtx_};
    reap();
    if (conns_.size() >= limit_) {
      CARAWAY_LOG(warning, object_store)
        << "refusing a " << what_ << " connection: too many open"
        << log::kv("limit", limit_);
      ::close(fd);
      continue;
    }
    auto& conn = conns_.emplace_back();
    conn.fd = fd;
    conn.worker = std::thread{[this, &conn] {
      serve_(conn.fd);
      ::shutdown(conn.fd, SHUT_RDWR);
      conn.done = true;
    }};
  }
}

} // namespace caraway::node::data
