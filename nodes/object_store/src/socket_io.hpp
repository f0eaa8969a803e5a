#pragma once

// Blocking socket helpers and the framing of the object data path:
//
//   request:  "CWO1" | object id (16 bytes, big endian)
//   response: status (1 byte) | size (8 bytes, big endian) | size bytes
//
// A connection carries any number of requests, one after another.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>

#include "caraway/wire/ids.hpp"

namespace caraway::node::data {

constexpr char magic[4] = {'C', 'W', 'O', '1'};
constexpr size_t request_size = 4 + 16;
constexpr size_t response_header_size = 1 + 8;

enum class status : uint8_t { ok = 0, not_found = 1 };

void encode_request(const wire::object_id& id, char* out);

/// False when the bytes are not a request.
bool decode_request(const char* in, wire::object_id& id);

void encode_u64(uint64_t x, char* out);

uint64_t decode_u64(const char* in);

/// Sends all bytes; false on error or a closed peer.
bool send_all(int fd, const char* data, size_t size);

/// Receives exactly `size` bytes; false on error, timeout or end of stream.
bool recv_all(int fd, char* data, size_t size);

/// Sets the send and receive timeout of a socket.
void set_timeouts(int fd, std::chrono::milliseconds timeout);

/// Connects within `timeout`; returns the socket or -1 and sets `why`.
int connect_to(const std::string& host, uint16_t port,
               std::chrono::milliseconds timeout, std::string& why);

/// Listens on host:port (port 0 picks one); returns the socket or -1 and
/// sets `why`.
int listen_on(const std::string& host, uint16_t port, std::string& why);

/// The port a listening socket is bound to.
uint16_t local_port(int fd);

/// The text of errno.
std::string last_error();

/// Accepts connections on a listening socket and serves each on a thread of
/// its own, at most `limit` at once (more are refused). The peer learns at
/// once when its connection is done; the descriptor closes when reaped.
class acceptor {
public:
  /// `what` names the connections in log lines.
  acceptor(int listen_fd, size_t limit, std::function<void(int)> serve,
           std::string what);

  ~acceptor();

  acceptor(const acceptor&) = delete;
  acceptor& operator=(const acceptor&) = delete;

  /// Connections being served now.
  size_t connections() const;

  /// Stops accepting, closes the listening socket, shuts every connection
  /// down (waking blocked reads and writes) and joins its thread;
  /// idempotent.
  void stop();

private:
  struct connection {
    int fd = -1;
    std::thread worker;
    std::atomic<bool> done{false};
  };

  void loop();

  // Joins the threads of finished connections; requires mtx_.
  void reap();

  int listen_fd_;
  size_t limit_;
  std::function<void(int)> serve_;
  std::string what_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mtx_;
  std::list<connection> conns_;
  std::thread thread_;
};

} // namespace caraway::node::data
