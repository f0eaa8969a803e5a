// caraway-test-tcp: plain TCP helpers for the cluster tests, deliberately
// without CAF so that they behave like foreign programs.
//
//   caraway-test-tcp listen <port> [<bytes>]
//     Accepts connections on 127.0.0.1:<port>, reads and drops whatever
//     arrives and never answers: a port that is open but is not caraway.
//     With <bytes> (at most 4096), greets each connection with that many
//     random bytes instead, like a server of another protocol. Prints
//     "listening on 127.0.0.1:<port>" once bound; exits on SIGTERM or SIGINT.
//   caraway-test-tcp garbage <host> <port> <bytes>
//     Connects, sends that many random bytes, ends its side and waits (up to
//     10 s) for the peer to close: once it has, the peer has read them all.
//     Prints "peer closed" or "peer kept the connection open".
//   caraway-test-tcp announce <host> <port> <bytes>
//     Sends the 32-byte header of a CAF message (BASP, direct message to
//     actor 1) announcing a payload of <bytes>, then 1 MiB of it, and waits
//     (up to 10 s) for the peer to close. Prints "peer closed" or "peer
//     kept the connection open".
//   caraway-test-tcp silent <host> <port>
//     Connects and says nothing, as a client that froze before its TLS
//     hello would, and waits (up to 10 s) for the peer to close. Prints
//     "peer closed" or "peer kept the connection open".
//   caraway-test-tcp unix <path>
//     Connects to a Unix socket (a node's object store) and waits (up to
//     10 s) for its first bytes. Prints "answered" or "peer closed without
//     answering".
//   caraway-test-tcp request <host> <port>
//     Asks a data port in plaintext for an object no node has, as the
//     object data path does without TLS, and waits (up to 10 s) for the
//     9-byte answer. Prints "answered status <n>" or "peer closed without
//     answering".

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) {
  stop_requested = 1;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "caraway-test-tcp: %s: %s\n", what.c_str(),
               std::strerror(errno));
  return 1;
}

int usage() {
  std::fputs("usage: caraway-test-tcp listen <port> [<bytes>]\n"
             "       caraway-test-tcp garbage <host> <port> <bytes>\n"
             "       caraway-test-tcp announce <host> <port> <bytes>\n"
             "       caraway-test-tcp request <host> <port>\n"
             "       caraway-test-tcp silent <host> <port>\n"
             "       caraway-test-tcp unix <path>\n",
             stderr);
  return 2;
}

bool parse_number(const char* text, unsigned long max, unsigned long& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoul(text, &end, 10);
  return errno == 0 && end != text && *end == '\0' && out <= max;
}

bool make_address(const char* host, unsigned long port, sockaddr_in& out) {
  std::memset(&out, 0, sizeof(out));
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<uint16_t>(port));
  // Only loopback: the tests must never touch another machine.
  if (inet_pton(AF_INET, host, &out.sin_addr) != 1)
    return false;
  return (ntohl(out.sin_addr.s_addr) >> 24) == 127;
}

std::vector<unsigned char> random_bytes(size_t n) {
  static std::mt19937_64 gen{std::random_device{}()};
  std::vector<unsigned char> result(n);
  for (auto& x : result)
    x = static_cast<unsigned char>(gen());
  return result;
}

/// Writes all of `data` unless the peer goes away; returns the bytes sent.
size_t write_all(int fd, const std::vector<unsigned char>& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    auto n = write(fd, data.data() + sent, data.size() - sent);
    if (n < 0 && errno == EINTR && !stop_requested)
      continue;
    // The peer may drop the connection as soon as it sees nonsense: that is
    // a fine reaction, not a failure of this tool.
    if (n <= 0)
      break;
    sent += static_cast<size_t>(n);
  }
  return sent;
}

int listen_forever(unsigned long port, unsigned long greeting) {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  // No SA_RESTART: poll() must return so that the loop sees the flag.
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  sockaddr_in addr;
  make_address("127.0.0.1", port, addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return fail("socket");
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return fail("bind to port " + std::to_string(port));
  if (listen(fd, 64) != 0)
    return fail("listen");
  std::printf("listening on 127.0.0.1:%lu\n", port);
  std::fflush(stdout);
  std::vector<pollfd> fds{{fd, POLLIN, 0}};
  std::vector<char> buf(65536);
  while (!stop_requested) {
    if (poll(fds.data(), fds.size(), 1000) < 0) {
      if (errno == EINTR)
        continue;
      return fail("poll");
    }
    for (size_t i = fds.size(); i-- > 1;) {
      if (fds[i].revents == 0)
        continue;
      if (read(fds[i].fd, buf.data(), buf.size()) <= 0) {
        close(fds[i].fd);
        fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    if (fds[0].revents & POLLIN) {
      int conn = accept(fd, nullptr, nullptr);
      if (conn >= 0) {
        // Small greetings fit the socket buffer: this does not block.
        if (greeting > 0)
          write_all(conn, random_bytes(greeting));
        fds.push_back({conn, POLLIN, 0});
      }
    }
    for (auto& x : fds)
      x.revents = 0;
  }
  for (auto& x : fds)
    close(x.fd);
  return 0;
}

// Reads and drops what arrives until the peer closes (true) or 10 s pass.
bool wait_for_close(int fd) {
  std::vector<char> buf(65536);
  pollfd pfd{fd, POLLIN, 0};
  for (int waited_ms = 0; waited_ms < 10000; waited_ms += 100) {
    if (poll(&pfd, 1, 100) <= 0)
      continue;
    auto n = read(fd, buf.data(), buf.size());
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
      return true;
  }
  return false;
}

// A connected socket to a loopback host:port, or -1 (after saying why).
int dial(const char* host, unsigned long port) {
  sockaddr_in addr;
  if (!make_address(host, port, addr)) {
    std::fprintf(stderr, "caraway-test-tcp: '%s' is not a loopback address\n",
                 host);
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    fail("socket");
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    fail("connect to port " + std::to_string(port));
    close(fd);
    return -1;
  }
  return fd;
}

int send_garbage(const char* host, unsigned long port, unsigned long bytes) {
  std::signal(SIGPIPE, SIG_IGN);
  int fd = dial(host, port);
  if (fd < 0)
    return 1;
  auto sent = write_all(fd, random_bytes(bytes));
  shutdown(fd, SHUT_WR);
  bool closed = wait_for_close(fd);
  close(fd);
  std::printf("sent %zu of %lu bytes\n%s\n", sent, bytes,
              closed ? "peer closed" : "peer kept the connection open");
  return 0;
}

int stay_silent(const char* host, unsigned long port) {
  int fd = dial(host, port);
  if (fd < 0)
    return 1;
  bool closed = wait_for_close(fd);
  close(fd);
  std::printf("%s\n", closed ? "peer closed" : "peer kept the connection open");
  return 0;
}

void put_u32(std::vector<unsigned char>& out, size_t at, uint32_t x) {
  for (int i = 3; i >= 0; --i, x >>= 8)
    out[at + static_cast<size_t>(i)] = static_cast<unsigned char>(x & 0xFF);
}

int send_announcement(const char* host, unsigned long port,
                      unsigned long bytes) {
  std::signal(SIGPIPE, SIG_IGN);
  int fd = dial(host, port);
  if (fd < 0)
    return 1;
  // operation, two padding bytes, flags, payload length, operation data,
  // source actor, destination actor: big endian, as CAF 0.17 writes them.
  std::vector<unsigned char> header(32, 0);
  header[0] = 0x02; // direct message
  put_u32(header, 4, static_cast<uint32_t>(bytes));
  header[31] = 1; // to actor 1
  write_all(fd, header);
  write_all(fd, std::vector<unsigned char>(1 << 20, 'x'));
  bool closed = wait_for_close(fd);
  close(fd);
  std::printf("%s\n", closed ? "peer closed" : "peer kept the connection open");
  return 0;
}

int send_request(const char* host, unsigned long port) {
  std::signal(SIGPIPE, SIG_IGN);
  int fd = dial(host, port);
  if (fd < 0)
    return 1;
  // "CWO1", then an object id of 16 bytes: zero, which no object has.
  std::vector<unsigned char> request(20, 0);
  std::memcpy(request.data(), "CWO1", 4);
  write_all(fd, request);
  unsigned char answer[9];
  size_t got = 0;
  pollfd pfd{fd, POLLIN, 0};
  bool closed = false;
  for (int waited_ms = 0; !closed && got < sizeof(answer) && waited_ms < 10000;
       waited_ms += 100) {
    if (poll(&pfd, 1, 100) <= 0)
      continue;
    auto n = read(fd, answer + got, sizeof(answer) - got);
    if (n > 0)
      got += static_cast<size_t>(n);
    else
      closed = n == 0 || errno != EINTR;
  }
  close(fd);
  if (got == sizeof(answer))
    std::printf("answered status %u\n", static_cast<unsigned>(answer[0]));
  else if (closed)
    std::printf("peer closed without answering\n");
  else
    std::printf("no answer within 10 s\n");
  return 0;
}

int probe_unix(const char* path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof(addr.sun_path)) {
    std::fprintf(stderr, "caraway-test-tcp: path too long: %s\n", path);
    return 2;
  }
  std::strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0)
    return fail("socket");
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return fail(std::string{"connect to "} + path);
  char buf[64];
  pollfd pfd{fd, POLLIN, 0};
  const char* result = "no answer within 10 s";
  for (int waited_ms = 0; waited_ms < 10000; waited_ms += 100) {
    if (poll(&pfd, 1, 100) <= 0)
      continue;
    auto n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    result = n > 0 ? "answered" : "peer closed without answering";
    break;
  }
  close(fd);
  std::printf("%s\n", result);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  unsigned long port = 0;
  unsigned long bytes = 0;
  if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "listen") == 0) {
    if (!parse_number(argv[2], 65535, port) || port == 0
        || (argc == 4 && !parse_number(argv[3], 4096, bytes)))
      return usage();
    return listen_forever(port, bytes);
  }
  if (argc == 5 && std::strcmp(argv[1], "garbage") == 0) {
    if (!parse_number(argv[3], 65535, port) || port == 0
        || !parse_number(argv[4], 1ul << 30, bytes))
      return usage();
    return send_garbage(argv[2], port, bytes);
  }
  if (argc == 5 && std::strcmp(argv[1], "announce") == 0) {
    if (!parse_number(argv[3], 65535, port) || port == 0
        || !parse_number(argv[4], 0xFFFFFFFFul, bytes))
      return usage();
    return send_announcement(argv[2], port, bytes);
  }
  if (argc == 4 && std::strcmp(argv[1], "silent") == 0) {
    if (!parse_number(argv[3], 65535, port) || port == 0)
      return usage();
    return stay_silent(argv[2], port);
  }
  if (argc == 3 && std::strcmp(argv[1], "unix") == 0)
    return probe_unix(argv[2]);
  if (argc == 4 && std::strcmp(argv[1], "request") == 0) {
    if (!parse_number(argv[3], 65535, port) || port == 0)
      return usage();
    return send_request(argv[2], port);
  }
  return usage();
}
