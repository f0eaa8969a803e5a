#pragma once

#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace caraway {

/// Options of `init`. Every field can also be given as a `--caraway-...` flag
/// or in a config file.
struct config {
  /// host:port of a cluster's head; empty starts an embedded cluster.
  std::string address;
  /// With no `address`: run tasks and actors in worker processes, as a
  /// cluster node does, instead of on threads of this process. The
  /// application then starts a head node of its own (`caraway-node` on a
  /// free loopback port, with this config's resources) and drives it; it
  /// stops with the application.
  bool worker_processes = false;
  /// The `caraway-node` program for `worker_processes`. Empty: the one next
  /// to the executable, else the installed one.
  std::string node_binary;
  /// The node whose raylet a cluster driver asks for workers: a node id (or
  /// its first 8 or more hex digits) or host:port. Empty: a node on this
  /// machine, the one the head names if it is on this machine.
  std::string node;
  /// CPUs of the embedded node; negative means the machine's core count.
  double num_cpus = -1;
  /// GPUs of the embedded node.
  double num_gpus = 0;
  /// Custom resources of the embedded node, e.g. {"ssd", 2}.
  std::map<std::string, double> resources;
  /// Bytes the embedded object store may hold; 0 picks 30% of memory.
  uint64_t object_store_memory = 0;
  /// Values of at least this many bytes go to the object store.
  uint64_t inline_threshold = 100 * 1024;
  /// Namespace for named actors.
  std::string ns = "default";
  /// Most executor threads the embedded node starts.
  uint32_t max_workers = 512;
  /// In a cluster, report what becomes of each task (submitted, sent to a
  /// node, ended) to the head's task table, in batches (`caraway list
  /// tasks`). An embedded cluster keeps none unless it serves a dashboard.
  bool task_events = true;
  /// An embedded cluster: serve the web dashboard on 127.0.0.1 at this port
  /// (0: a free one; `caraway::dashboard_url()` says where); its tasks then
  /// go to its task table. -1: none.
  int32_t dashboard_port = -1;
  /// What tasks and actors print in worker processes is shown on this
  /// driver's stderr, each line prefixed with the task and its process.
  bool log_to_driver = true;
  /// How long an embedded driver's `get` spins before it sleeps, in
  /// microseconds.
  uint32_t get_spin_us = 100;
  /// The same for the driver of a cluster, whose results come from other
  /// processes: a remote round trip takes 100-300 us.
  uint32_t cluster_get_spin_us = 300;
  /// In a cluster, the owner and the raylet handle messages on CAF's network
  /// I/O thread, which saves a thread hand-off per message from another
  /// process.
  bool io_thread_actors = true;
  /// A cluster driver's data server (where nodes pull its `put`s): the
  /// address it listens on and advertises (empty: the one that routes to
  /// the head) and its port (0: any free one).
  std::string host;
  uint16_t data_port = 0;
  /// How long a driver tries to reach the cluster's head.
  uint32_t connect_timeout_ms = 5000;
  /// How long a request to a cluster component may take.
  uint32_t request_timeout_ms = 30000;
  /// Largest message this process accepts from another: a peer announcing
  /// a larger one is disconnected before memory is allocated for it. Above
  /// `inline_threshold`, since inline values travel in messages.
  uint64_t max_message_bytes = uint64_t{64} << 20;
  /// A driver that lost the head: how long it tries to reach it again
  /// (actors and tasks on live nodes keep working meanwhile) before the
  /// cluster counts as gone.
  uint32_t head_reconnect_timeout_ms = 30000;
  /// Bytes of task specs an owner keeps to rebuild lost objects by running
  /// their tasks again (lineage); past it the oldest are dropped, and their
  /// objects give `object_lost_error` when lost.
  uint64_t lineage_bytes = uint64_t{256} << 20;
  /// How long an owner keeps an idle worker lease for the next task of the
  /// same shape before it gives the lease back, in milliseconds.
  uint32_t lease_linger_ms = 5;
  /// Lease requests an owner has in flight per task shape, at most.
  uint32_t max_lease_requests = 10;
  /// Mutual TLS on every connection to and from the cluster: the cluster
  /// CA's certificate, and this process' certificate and key, PEM files
  /// such as `caraway tls init DIR` makes (DIR/ca.pem, DIR/client.pem,
  /// DIR/client.key). All three or none; peers are accepted only with a
  /// certificate the CA signed.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  /// Instead of the three files: a directory as `caraway tls init DIR`
  /// makes, whose ca.pem and client.pem/client.key a driver uses (a daemon
  /// its node.pem/node.key).
  std::string tls_dir;
  /// With no TLS files given, a cluster process uses this user's own, made
  /// on first use in ~/.caraway/tls: on loopback too, any local user could
  /// otherwise run code as the cluster's. This turns TLS off instead, on
  /// loopback only.
  bool insecure_loopback = false;
  /// trace, debug, info, warning, error or off.
  std::string log_level = "warning";
  /// CAF options as key = value, e.g. {"scheduler.max-threads", "4"}.
  std::map<std::string, std::string> caf;
  /// Shared libraries with the application's tasks and actors, which a
  /// driver has every node of the cluster load. Unset: the task library
  /// that `caraway_add_app` builds next to the executable, if there is one.
  std::optional<std::vector<std::string>> libraries;
};

/// Parses `--caraway-...` flags (and a file named by `--caraway-config`),
/// leaving other arguments alone. Throws `invalid_argument_error` on a bad
/// value or an unknown `--caraway-` flag.
config parse_config(int argc, const char* const* argv);

/// Parses a `resources` string such as "ssd:2,tpu:1".
std::map<std::string, double> parse_resources(const std::string& text);

namespace detail {

/// The message of an error that Boost.Program_options threw while parsing
/// `input` (the command line and config file text it read). Boost 1.74 fills
/// each %placeholder% of its messages until none is left, so an option or
/// value holding one ("%value%") would never end: for input with a '%' the
/// message is made here instead, naming the option.
std::string option_error_text(const std::exception& e,
                              const std::string& input);

/// A command line's arguments (without the program), a line each: the
/// `input` above.
std::string arguments_text(int argc, const char* const* argv);

} // namespace detail

} // namespace caraway
