#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "caraway/node/data_tls.hpp"
#include "caraway/node/store_memory.hpp"

namespace caraway::node {

namespace data {
class acceptor;
} // namespace data

/// Serves the sealed objects of a store to other nodes over TCP, with mutual
/// TLS when given a context: bulk
/// data bypasses CAF's BASP, which moves large messages at ~130 MiB/s and
/// without back-pressure. The sender streams straight from the sealed buffer
/// and the receiver writes straight into its own store, so the memory in
/// flight is bounded by the sockets' buffers.
class data_server {
public:
  struct options {
    std::string host = "127.0.0.1";
    uint16_t port = 0; // 0 picks a free port
    /// The host peers dial; empty means `host`, or when that is a wildcard
    /// the local address that routes to `peer`.
    std::string advertised_host;
    std::string peer = "127.0.0.1";
    size_t chunk_bytes = size_t{4} << 20;
    size_t max_connections = 64;
    std::chrono::milliseconds idle_timeout{30000};
    /// Null: plain TCP, for loopback clusters without TLS.
    data::tls_context_ptr tls;
  };

  /// Listens at once; throws std::runtime_error naming the address when it
  /// cannot.
  data_server(store_memory_ptr store, options opts);

  ~data_server();

  data_server(const data_server&) = delete;
  data_server& operator=(const data_server&) = delete;

  uint16_t port() const {
    return port_;
  }

  /// The TLS context it accepts with; null when plain.
  const data::tls_context_ptr& tls() const {
    return opts_.tls;
  }

  /// host:port as peers should dial it.
  std::string address() const;

  uint64_t served_objects() const {
    return served_objects_.load();
  }

  uint64_t served_bytes() const {
    return served_bytes_.load();
  }

  /// Connections closed at the TLS handshake: peers without a certificate
  /// of the cluster, or not speaking TLS.
  uint64_t refused_connections() const {
    return refused_.load();
  }

  /// Stops accepting and closes every connection; idempotent.
  void stop();

private:
  void serve(int fd);

  store_memory_ptr store_;
  options opts_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::string advertised_;
  std::atomic<uint64_t> served_objects_{0};
  std::atomic<uint64_t> served_bytes_{0};
  std::atomic<uint64_t> refused_{0};
  std::unique_ptr<data::acceptor> acceptor_;
};

/// The local address this host uses to reach `peer` (no packet is sent);
/// 127.0.0.1 when it cannot tell.
std::string local_address_towards(const std::string& peer);

} // namespace caraway::node
