#pragma once

// The node's object store in shared memory, for worker processes: one
// memfd segment that the node daemon allocates in and every worker maps, and
// a Unix socket on which workers ask the daemon for memory, seal objects and
// find them. A worker reads an object another worker made straight from the
// mapping, with no copy.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "caraway/node/store_memory.hpp"

namespace caraway::node {

namespace data {
class acceptor;
} // namespace data

/// A memfd mapped into this process; pages are taken as they are written.
class shm_segment {
public:
  /// A new segment of `size` bytes; null with `why` on failure.
  static std::shared_ptr<shm_segment> create(uint64_t size, std::string& why);

  /// Maps the segment behind `fd` (taking the fd); null with `why`.
  static std::shared_ptr<shm_segment> attach(int fd, uint64_t size,
                                             std::string& why);

  ~shm_segment();

  shm_segment(const shm_segment&) = delete;
  shm_segment& operator=(const shm_segment&) = delete;

  char* base() const noexcept {
    return base_;
  }

  uint64_t size() const noexcept {
    return size_;
  }

  int fd() const noexcept {
    return fd_;
  }

  /// Whether [data, data + size) lies in the segment.
  bool holds(const char* data, uint64_t size) const noexcept {
    return data >= base_ && size <= size_
           && static_cast<uint64_t>(data - base_) <= size_ - size;
  }

private:
  shm_segment(int fd, char* base, uint64_t size)
    : fd_(fd), base_(base), size_(size) {
  }

  int fd_;
  char* base_;
  uint64_t size_;
};

/// The process at the other end of a store connection, as the kernel tells
/// (SO_PEERCRED): it cannot lie about these.
struct store_peer {
  pid_t pid = 0;
  uid_t uid = 0;
};

/// Whether a peer may use the store; if not, says why.
using store_peer_check = std::function<bool(const store_peer&, std::string&)>;

/// Peers of this process' user.
bool same_user(const store_peer& peer, std::string& why);

/// Peers of this process' user that it started itself: a node's workers.
bool own_child(const store_peer& peer, std::string& why);

/// Serves a shared store to the worker processes of its node on a Unix
/// socket (mode 0600, in the node's session directory). Each connection
/// holds the memory it was given until it lets go of it or closes: a worker
/// that dies leaks nothing, and an object it did not seal is freed with it.
class store_server {
public:
  /// Listens at once; throws std::runtime_error naming the path when it
  /// cannot.
  /// Connections from peers that `may_connect` refuses are closed at once.
  store_server(store_memory_ptr store, std::shared_ptr<shm_segment> segment,
               std::string path, store_peer_check may_connect = same_user);

  ~store_server();

  store_server(const store_server&) = delete;
  store_server& operator=(const store_server&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  /// Workers connected now.
  size_t connections() const;

  /// Stops accepting and closes every connection; idempotent.
  void stop();

private:
  void serve(int fd);

  store_memory_ptr store_;
  std::shared_ptr<shm_segment> segment_;
  std::string path_;
  store_peer_check may_connect_;
  std::unique_ptr<data::acceptor> acceptor_;
};

/// The store of the node whose `store_server` listens at `path`, used from a
/// worker process: objects are mapped, not copied. Null with `why` when the
/// server cannot be reached.
store_memory_ptr connect_store(const std::string& path, std::string& why);

} // namespace caraway::node
