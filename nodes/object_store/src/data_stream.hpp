#pragma once

#include <cstddef>
#include <string>

struct ssl_st;

namespace caraway::node::data {

class tls_context;

/// One connection of the data path: a socket, with TLS over it once
/// `secure` succeeds. Blocking; each call is bounded by the socket's
/// timeouts. Does not own the socket.
class stream {
public:
  explicit stream(int fd) : fd_(fd) {
    // nop
  }

  ~stream();

  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  /// Runs the TLS handshake as the accepting or the dialing end; false
  /// with `why` when the peer does not speak TLS or has no certificate of
  /// the cluster's CA.
  bool secure(const tls_context& ctx, bool accepting, std::string& why);

  /// Sends all bytes; false on an error, a timeout or a closed peer.
  bool send_all(const char* data, size_t size);

  /// Receives exactly `size` bytes; false on an error, a timeout or the end
  /// of the stream.
  bool recv_all(char* data, size_t size);

  /// Why the last failed call failed.
  const std::string& error() const {
    return error_;
  }

private:
  // Moves all bytes with `plain` on a plain socket, with `tls` over TLS.
  template <class Char, class Plain, class Tls>
  bool transfer(Char* data, size_t size, Plain plain, Tls tls);

  int fd_;
  ssl_st* ssl_ = nullptr;
  std::string error_;
};

} // namespace caraway::node::data
