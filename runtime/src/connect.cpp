#include "caraway/runtime/connect.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "dial.hpp"

#include <algorithm>
#include <cstring>
#include <thread>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace caraway::runtime {

using wire::gcs_actor;

namespace {

// A caraway peer greets a new connection with CAF's server handshake: a
// 32-byte BASP header (operation 0, then the payload length, big-endian)
// and a payload of a few KiB. CAF 0.17 believes any length a peer claims and
// zeroes a buffer that large, up to 4 GiB, before it can fail, so a port
// that speaks another protocol could stall the process for seconds. The
// greeting is looked at first, on a connection of its own.
constexpr size_t greeting_header = 32;
constexpr uint32_t max_greeting = 1 << 20;
constexpr const char* other_protocol = "it speaks another protocol";

// Empty if the peer greets like a caraway node or cannot be reached at all
// (CAF then says why); else why it is not one.
std::string check_greeting(const std::string& host, uint16_t port,
                           std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints,
                    &found)
        != 0
      || found == nullptr)
    return {};
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK,
                    found->ai_protocol);
  if (fd < 0) {
    ::freeaddrinfo(found);
    return {};
  }
  auto left_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    return static_cast<int>(std::max<int64_t>(left.count(), 0));
  };
  auto wait_for = [&](short events) {
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, left_ms()) == 1;
  };
  std::string why;
  int rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  int err = 0;
  socklen_t len = sizeof(err);
  if ((rc == 0 || (errno == EINPROGRESS && wait_for(POLLOUT)))
      && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
    unsigned char buf[greeting_header];
    size_t got = 0;
    while (got < sizeof(buf)) {
      if (!wait_for(POLLIN)) {
        // A TLS port waits for the client to speak first.
        why = "no greeting within " + std::to_string(timeout.count())
              + " ms (a TLS node waits for the client to speak TLS: this "
                "process needs the cluster's TLS files, not "
                "insecure-loopback)";
        break;
      }
      auto n = ::recv(fd, buf + got, sizeof(buf) - got, 0);
      if (n <= 0) {
        why = "it closed the connection without a greeting";
        break;
      }
      got += static_cast<size_t>(n);
    }
    if (why.empty()) {
      uint32_t payload = (uint32_t{buf[4]} << 24) | (uint32_t{buf[5]} << 16)
                         | (uint32_t{buf[6]} << 8) | uint32_t{buf[7]};
      if (buf[0] != 0 || payload == 0 || payload > max_greeting)
        why = other_protocol;
    }
  }
  ::close(fd);
  return why;
}

// Asks the middleman to connect; `as` turns what the peer publishes into
// the handle wanted, or an error naming the address.
template <class Handle, class As>
caf::expected<Handle> connect_once(caf::actor_system& sys,
                                   const std::string& host, uint16_t port,
                                   std::chrono::milliseconds timeout,
                                   const char* what, As as) {
  auto where = host + ":" + std::to_string(port);
  caf::expected<Handle> result{caf::sec::cannot_connect_to_node};
  auto started = std::chrono::steady_clock::now();
  // A TLS peer speaks only after the client's hello; the handshake itself
  // tells whether it is one of the cluster's.
  auto tls = sys.has_openssl_manager();
  auto why = tls ? std::string{} : check_greeting(host, port, timeout);
  if (!why.empty())
    // Another protocol will not turn into caraway: not worth a retry.
    return caf::make_error(why == other_protocol
                             ? caf::sec::unexpected_actor_messaging_interface
                             : caf::sec::cannot_connect_to_node,
                           std::string{"cannot reach "} + what + " at " + where
                             + ": " + why);
  timeout -= std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started);
  timeout = std::max(timeout, std::chrono::milliseconds(1));
  // remote_actor() has no timeout; asking the middleman actor does.
  caf::scoped_actor self{sys};
  self
    ->request(core::dialer(sys), timeout, caf::connect_atom::value, host, port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>& ifs) {
        result = as(where, std::move(ptr), ifs);
      },
      [&](caf::error& err) {
        // Under TLS, a peer that hangs up in the handshake refused this
        // process' certificate (or is not TLS): a retry will not help.
        // CAF gives up at once when the first handshake step fails.
        auto why = tls ? tls_failure(port) : std::string{};
        if (tls
            && (err == caf::sec::disconnect_during_handshake || !why.empty())) {
          result = caf::make_error(
            caf::sec::unexpected_actor_messaging_interface,
            std::string{"cannot reach "} + what + " at " + where
              + ": the TLS handshake failed"
              + (why.empty()
                   ? std::string{" (is this process' certificate signed by "
                                 "the cluster's CA, and is the peer a TLS "
                                 "node, not one run with "
                                 "--insecure-loopback?)"}
                   : ": " + why));
          return;
        }
        if (tls && err == caf::sec::request_timeout) {
          result = caf::make_error(
            caf::sec::cannot_connect_to_node,
            std::string{"cannot reach "} + what + " at " + where
              + ": the TLS handshake did not finish in time (is the peer a "
                "caraway node, and not frozen?)");
          return;
        }
        result = caf::make_error(caf::sec::cannot_connect_to_node,
                                 std::string{"cannot reach "} + what + " at "
                                   + where + ": " + sys.render(err));
      });
  return result;
}

caf::expected<gcs_actor> connect_once(caf::actor_system& sys,
                                      const std::string& host, uint16_t port,
                                      std::chrono::milliseconds timeout) {
  return connect_once<gcs_actor>(
    sys, host, port, timeout, "the head",
    [&](const std::string& where, caf::strong_actor_ptr ptr,
        const std::set<std::string>& ifs) {
      return as_gcs(sys, where, std::move(ptr), ifs);
    });
}

} // namespace

caf::expected<gcs_actor> as_gcs(caf::actor_system& sys,
                                const std::string& where,
                                caf::strong_actor_ptr ptr,
                                const std::set<std::string>& ifs) {
  if (!ptr)
    return caf::make_error(caf::sec::no_actor_published_at_port,
                           "nothing is published at " + where);
  if (ifs != sys.message_types<gcs_actor>())
    return caf::make_error(caf::sec::unexpected_actor_messaging_interface,
                           where + " is not a caraway head");
  return caf::actor_cast<gcs_actor>(std::move(ptr));
}

caf::expected<gcs_actor> connect_gcs(caf::actor_system& sys,
                                     const std::string& host, uint16_t port,
                                     std::chrono::milliseconds timeout,
                                     bool retry) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    auto result = connect_once(sys, host, port,
                               std::max(left, std::chrono::milliseconds(1)));
    // A peer that is not caraway will not become one.
    if (result || !retry
        || result.error() == caf::sec::unexpected_actor_messaging_interface
        || clock::now() + std::chrono::milliseconds(100) >= deadline)
      return result;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

caf::expected<wire::raylet_actor>
connect_raylet(caf::actor_system& sys, const std::string& host, uint16_t port,
               std::chrono::milliseconds timeout) {
  return connect_once<wire::raylet_actor>(
    sys, host, port, timeout, "the node",
    [&](const std::string& where, caf::strong_actor_ptr ptr,
        const std::set<std::string>& ifs) -> caf::expected<wire::raylet_actor> {
      if (!ptr)
        return caf::make_error(caf::sec::no_actor_published_at_port,
                               "nothing is published at " + where);
      if (ifs != sys.message_types<wire::raylet_actor>())
        return caf::make_error(caf::sec::unexpected_actor_messaging_interface,
                               where + " is not a caraway worker node");
      return caf::actor_cast<wire::raylet_actor>(std::move(ptr));
    });
}

} // namespace caraway::runtime
