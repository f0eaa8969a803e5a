#pragma once

// Starting, watching and ending a node's worker processes. The raylet decides
// when; this runs the programs.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "caraway/wire/records.hpp"

namespace caraway::runtime {

class worker_launcher {
public:
  struct options {
    /// The worker program.
    std::string binary;
    /// What every worker is told: its raylet's and its head's addresses,
    /// its node and the log level.
    std::string raylet_address;
    std::string head_address;
    std::string node_id;
    std::string log_level = "info";
    uint64_t max_message_bytes = uint64_t{64} << 20;
    /// The node's TLS files, if it uses TLS: its workers use them too.
    std::string tls_ca;
    std::string tls_cert;
    std::string tls_key;
    /// The Unix socket of the node's object store and host:port of its
    /// data server.
    std::string store_socket;
    std::string data_address;
    /// The node's session directory: each worker's stdout and stderr go to
    /// logs/worker-<job>-<pid>.out and .err, each job's libraries are kept
    /// in jobs/<job>/. Empty: the daemon's output, the libraries in place.
    std::string session_dir;
    /// The node's own libraries: what workers of a job that announced none
    /// load.
    std::vector<std::string> node_libraries;
  };

  explicit worker_launcher(options opts);

  /// Ends every worker process still running and reaps it.
  ~worker_launcher();

  worker_launcher(const worker_launcher&) = delete;
  worker_launcher& operator=(const worker_launcher&) = delete;

  /// Where workers reach their raylet and the head, known once they listen.
  void addresses(std::string raylet, std::string head);

  /// Starts a worker for `job` with its libraries; returns its pid, or 0
  /// with `why` filled in.
  int32_t start(uint64_t job, const std::vector<std::string>& libraries,
                uint64_t token, std::string& why);

  /// How `pid` ended (reaped now), e.g. "was killed by signal 6 (SIGABRT);
  /// its output is in DIR/worker-1-1234.{out,err}"; empty while it runs.
  std::string reap(int32_t pid);

  /// Sends SIGKILL to `pid` if it is one of ours and not reaped yet.
  void kill(int32_t pid);

  /// Copies the libraries of `job` into the session directory, so that its
  /// workers load them as they are now even if they are rebuilt meanwhile;
  /// returns the copies' paths (a library that cannot be copied is named in
  /// `failed` and left out).
  std::vector<std::string> keep_libraries(uint64_t job,
                                          const std::vector<std::string>& paths,
                                          std::vector<std::string>& failed);

  /// Kills every worker process still running, waits for each, and removes
  /// the jobs' library copies (the node stops).
  void stop_all();

  /// The workers whose output files are in the session directory, running
  /// or ended, by job and pid (none without a session directory).
  std::vector<wire::worker_info> workers();

  /// The last `lines` lines (0: all) of what worker `pid` wrote to stdout
  /// and stderr, each cut to its last `max_bytes`; false if the session
  /// directory has no output of such a worker.
  bool output(int32_t pid, uint32_t lines, std::string& out, std::string& err,
              size_t max_bytes = 4 << 20);

  /// The end of a file: its last `lines` lines (0: all), at most its last
  /// `max_bytes` (then saying how much was left out); empty if it cannot
  /// be read.
  static std::string tail(const std::string& path, uint32_t lines,
                          size_t max_bytes);

  /// Describes a wait status: "exited with code 3", "was killed by signal 9
  /// (SIGKILL)".
  static std::string describe_status(int status);

private:
  options opts_;
  std::mutex mtx_;
  /// Running workers, with the start of their log files' paths.
  std::map<pid_t, std::string> running_;
};

} // namespace caraway::runtime
