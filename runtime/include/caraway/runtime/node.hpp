#pragma once

// Running this process as a node of a cluster: what caraway-node does.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "caraway/config.hpp"

namespace caraway::runtime {

struct node_options {
  /// The head runs the gcs; workers join it.
  bool head = true;
  /// Address to listen on.
  std::string host = "127.0.0.1";
  /// Port to listen on; 0 picks a free one.
  uint16_t port = 6380;
  /// Port of the object data path; 0 picks a free one.
  uint16_t data_port = 0;
  /// Port of the Prometheus endpoint (on `host`): -1 none, 0 a free one.
  int32_t metrics_port = -1;
  /// Port of the head's web dashboard: -1 none, 0 a free one.
  int32_t dashboard_port = 8265;
  /// Where the dashboard listens; empty: on `host`, like the other ports.
  std::string dashboard_host;
  /// Whether `dashboard_port` was asked for: if not, a head whose port is
  /// taken serves without a dashboard (and logs why) instead of failing.
  bool dashboard_port_set = false;
  /// host:port of the head (workers only).
  std::string head_address;
  /// How often nodes tell peers they are alive.
  uint32_t heartbeat_interval_ms = 500;
  /// A peer silent for this long counts as gone.
  uint32_t heartbeat_timeout_ms = 5000;
  /// How long a worker tries to reach the head.
  uint32_t connect_timeout_ms = 5000;
  /// Shared libraries with user code, loaded before anything runs.
  std::vector<std::string> libraries;
  /// Directory for the node's files; the head keeps the gcs' tables there
  /// and takes them back when it restarts. Empty: nothing is kept.
  std::string data_dir;
  /// The head, restarted: how long nodes, drivers and actors that were
  /// alive have to come back before they count as dead.
  uint32_t rejoin_timeout_ms = 10000;
  /// Each component's log file (under the session directory's logs/) moves
  /// to <component>.log.1 past this size; 0: it grows without bound.
  uint64_t log_file_max_bytes = uint64_t{100} << 20;
  /// The head: how many tasks its task table keeps (the latest).
  uint32_t task_table_size = 10000;
  /// A worker that lost the head: how long it serves on and tries to reach
  /// the head again before it stops.
  uint32_t head_reconnect_timeout_ms = 30000;
  /// Below this share of its resources in use a node takes new work
  /// itself; above it, work goes to the least used node with room.
  double spread_threshold = 0.5;
  /// The head: how often, at most, raylets hear of nodes whose resource
  /// use changed.
  uint32_t view_period_ms = 100;
  /// Where tasks run: on threads of the daemon ("threads"), or in worker
  /// processes per job that the node starts ("processes"): a crashing task
  /// then costs one worker, not the node, and every job runs its own code.
  std::string worker_mode = "processes";
  /// The worker program; empty: `caraway-worker` next to this executable.
  std::string worker_binary;
  /// A worker process idle this long ends, unless it owns objects or holds
  /// results others may read.
  uint32_t worker_idle_timeout_ms = 10000;
  /// A worker process whose job ended has this long to exit by itself
  /// (reporting its last task events) before it is killed.
  uint32_t worker_exit_grace_ms = 1000;
};

struct node_started {
  uint16_t port = 0;
  std::string node_id;
  /// Where the metrics are served; 0 if not.
  uint16_t metrics_port = 0;
  /// Where the dashboard is served; 0 if not.
  uint16_t dashboard_port = 0;
};

/// Starts the node; throws `caraway::error` naming what failed (a port in
/// use, a head out of reach, a library that does not load).
node_started start_node(const config& cfg, const node_options& opts);

/// Blocks until the node stops or `interrupted` returns true (checked every
/// 100 ms). Returns why the node stopped unless it was told to (`caraway
/// stop`, or interrupted): e.g. it lost the head.
std::string wait_node(const std::function<bool()>& interrupted);

} // namespace caraway::runtime
