#pragma once

// Running this process as a worker process of a node: what caraway-worker
// does. The node's raylet starts it for one job; it loads the job's
// libraries, registers its executor with the raylet and runs the job's
// tasks until the raylet is gone.

#include <cstdint>
#include <string>
#include <vector>

#include "caraway/config.hpp"

namespace caraway::runtime {

struct worker_options {
  /// host:port where the node's raylet listens for its workers.
  std::string raylet_address;
  /// host:port of the head.
  std::string head_address;
  /// The node that started this worker.
  std::string node_id;
  /// The job whose tasks it runs, and the libraries with their code.
  uint64_t job = 0;
  std::vector<std::string> libraries;
  /// What the raylet knows this worker by.
  uint64_t token = 0;
  /// The node's object store: its Unix socket, and host:port where the
  /// node serves its objects to other nodes.
  std::string store_socket;
  std::string data_address;
};

/// Starts the worker; throws `caraway::error` naming what failed (a library
/// that does not load, a raylet or head out of reach). `wait_node` then
/// blocks until the raylet is gone.
void start_worker(const config& cfg, const worker_options& opts);

} // namespace caraway::runtime
