#pragma once

// A cluster of caraway-node daemons that the bench starts for itself on
// loopback and always stops again.

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "caraway/config.hpp"
#include "process.hpp"

namespace bench {

/// The files a local cluster needs, found next to the bench's executable as
/// the build and an installation lay them out.
struct cluster_files {
  std::string node;    // bin/caraway-node
  std::string cli;     // bin/caraway
  std::string library; // lib/libcaraway-bench_tasks.so

  /// Finds them relative to `exe`; throws naming what is missing.
  static cluster_files next_to(const std::string& exe);
};

/// A head with 2 CPUs and, for `nodes == 2`, a worker with 1 CPU and the
/// custom resource `tpu:1`, both loading the bench's task library. Nodes
/// listen on ports the kernel picks, so runs side by side never collide.
class local_cluster {
public:
  /// `worker_mode`: the nodes' --worker-mode. With `tls`, the nodes use
  /// mutual TLS with certificates made for this cluster (`caraway tls
  /// init`); without, they run with --insecure-loopback.
  local_cluster(int nodes, const cluster_files& files,
                const std::string& worker_mode = "threads", bool tls = false);
  ~local_cluster();
  local_cluster(const local_cluster&) = delete;
  local_cluster& operator=(const local_cluster&) = delete;

  /// Gives a driver's config this cluster's client certificate if it uses
  /// TLS, else turns TLS off in it.
  void use_tls(caraway::config& cfg) const;

  /// host:port of the head, for drivers.
  const std::string& address() const {
    return address_;
  }

  /// Node ids in start order: the head first.
  const std::vector<std::string>& node_ids() const {
    return node_ids_;
  }

  /// Prints the end of each node's log, for finding out why a run failed.
  void print_logs(std::ostream& out) const;

  /// Stops the workers, then the head: SIGTERM, and SIGKILL for a node that
  /// is still running after a grace period. Throws if a node did not exit
  /// cleanly; stopping twice does nothing.
  void stop();

private:
  void start_node(const std::vector<std::string>& args,
                  const std::string& name);

  // Declared first, so that it outlives the processes writing into it.
  temp_dir dir_;
  std::vector<std::unique_ptr<child_process>> nodes_;
  std::string address_;
  // The TLS files' directory, if the cluster uses TLS.
  std::string tls_dir_;
  std::vector<std::string> node_ids_;
};

} // namespace bench
