#pragma once

// The components one process runs, whichever roles it has. Each role adds
// its part (role files: head.cpp, node.cpp, driver.cpp; embedded.cpp puts
// head, node and driver together in one actor system).

#include <future>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "caraway/config.hpp"
#include "caraway/node/data_server.hpp"
#include "caraway/node/object_puller.hpp"
#include "caraway/node/shared_store.hpp"
#include "caraway/node/store_memory.hpp"
#include "caraway/runtime/node.hpp"
#include "caraway/runtime/worker.hpp"
#include "caraway/wire/interfaces.hpp"
#include "dashboard.hpp"
#include "local_head.hpp"
#include "metrics.hpp"
#include "owner/core_worker.hpp"
#include "worker_launcher.hpp"

namespace caraway::runtime {

struct process {
  std::unique_ptr<caf::actor_system_config> caf_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<owner::core_worker> core;
  node::store_memory_ptr store;
  wire::gcs_actor gcs;
  wire::raylet_actor raylet;
  wire::owner_actor owner;
  wire::object_store_actor store_actor;
  // The data path of a cluster process: serves its objects, pulls others'.
  std::unique_ptr<node::data_server> data;
  // A node whose user code runs in worker processes lends its store out to
  // them: the store's memory is this shared segment.
  std::shared_ptr<node::shm_segment> segment;
  std::unique_ptr<node::store_server> store_server;
  // A daemon's Prometheus endpoint, if it serves one.
  std::unique_ptr<metrics_server> metrics;
  // The head's web dashboard, if it serves one.
  std::unique_ptr<dashboard_server> dashboard;
  std::shared_ptr<node::object_puller> puller;
  // Other actors of this process' roles, which stop with it (a worker
  // process' executor).
  std::vector<caf::actor> others;
  // A node running user code in worker processes starts them here.
  std::shared_ptr<worker_launcher> workers;
  // The head node this application started for itself (worker processes
  // without a cluster): it stops after the driver.
  std::unique_ptr<local_head> own_head;
  std::string data_address;
  // A driver borrows the raylet of another process: shutdown must leave it
  // alone. The gcs of a driver or worker is its own link to the head.
  bool owns_gcs = false;
  bool owns_raylet = false;
  // One node in this process and no other: its raylet knows the cluster.
  bool embedded = false;
  // Set when the raylet has stopped (a cluster node waits for it).
  /// Set once the raylet is gone: empty when it was told to stop, else why
  /// it stopped.
  std::shared_ptr<std::promise<std::string>> raylet_stopped;
  std::shared_future<std::string> raylet_stopped_future;
};

// -- caf_setup.cpp -----------------------------------------------------------

/// An actor system for this process; with `networked`, the middleman is
/// loaded with caraway's settings and `timing`'s heartbeats.
void make_system(process& p, const config& cfg, bool networked,
                 const node_options& timing);

/// The store and the core worker every process has. `get_spin_us` is the
/// driver's spin in `get`; `task_events` whether its tasks go to the task
/// table (nothing can read an embedded cluster's: it is off there). The
/// store is `store` if given, else one on the heap, or with `shared` one in
/// shared memory for worker processes (`p.segment`).
void make_owner_core(process& p, const config& cfg, uint32_t get_spin_us,
                     bool task_events, bool shared = false,
                     node::store_memory_ptr store = nullptr);

/// Spawns the owner actor, on the I/O thread when configured.
void spawn_owner(process& p, const config& cfg, std::string own_address);

/// Starts serving this process' objects to other processes and pulling
/// theirs; `host` and `port` are where to listen, `peer` whose route picks
/// the address when `host` is empty.
void start_data_path(process& p, const config& cfg, const std::string& host,
                     uint16_t port, const std::string& peer);

/// Starts pulling other processes' objects into this one's store.
void start_puller(process& p, const config& cfg);

/// Renders an error a component answered with: its message if it has one.
std::string render(caf::actor_system& sys, const caf::error& err);

// -- roles -------------------------------------------------------------------

/// head.cpp: the gcs of the cluster; a daemon's keeps its tables in its
/// data dir, if it has one, and takes them back from there.
void add_head(process& p, const node_options* daemon);

/// Who links to the head: what it announces and what a missing head means.
enum class head_link {
  /// A driver, which rejoins its job after the head restarted.
  driver,
  /// A worker node's daemon, which rejoins the cluster under its id.
  node,
  /// A worker process: its node may start it while the head is away (the
  /// node serves on meanwhile), so it starts without the head and reaches
  /// it when it is back.
  worker_process,
};

/// driver.cpp: reaches the head at `address` within `timeout_ms`; the
/// process' gcs is then a link that tries to reach the head again for
/// `reconnect_ms` when it is lost.
void connect_head(process& p, const std::string& address, uint32_t timeout_ms,
                  uint32_t reconnect_ms, head_link role);

/// driver.cpp: joins the cluster as a driver: announces the job and its
/// libraries, submits to the raylet the gcs names.
void add_driver(process& p, const config& cfg);

/// node.cpp: a raylet with executors and actor hosts on this process'
/// store, registered with the gcs. With `daemon`, the node listens (the
/// head with its gcs, a worker with its raylet) and reports its port.
void add_node(process& p, const config& cfg, const node_options* daemon,
              node_started* started);

/// embedded.cpp: head, node and driver in one actor system.
std::unique_ptr<process> start_embedded(const config& cfg);

/// driver.cpp: a driver of the cluster at `cfg.address`.
std::unique_ptr<process> start_cluster_driver(const config& cfg);

/// worker.cpp: a worker process a node started for one job.
std::unique_ptr<process> start_worker_process(const config& cfg,
                                              const worker_options& opts);

/// node.cpp: a head or worker node daemon.
std::unique_ptr<process> start_daemon(const config& cfg,
                                      const node_options& opts,
                                      node_started& started);

/// session.cpp: stops whatever a failed start got running.
void abort_start(process& p);

/// Runs `start` on a fresh process; on failure stops what it started and
/// rethrows.
template <class F>
std::unique_ptr<process> start_process(F start) {
  auto p = std::make_unique<process>();
  try {
    start(*p);
  } catch (...) {
    abort_start(*p);
    caf::logger::set_current_actor_system(nullptr);
    throw;
  }
  // The system's constructor pinned CAF's logger to this thread; unpin it, or
  // ~actor_system waits forever when shutdown runs on another thread.
  caf::logger::set_current_actor_system(nullptr);
  return p;
}

} // namespace caraway::runtime
