#pragma once

// Starting, watching and ending a node's worker processes. The raylet decides
// when; this runs the programs.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

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
    /// Where each worker's stdout and stderr go, as
    /// worker-<job>-<pid>.out and .err; empty: the daemon's own.
    std::string log_dir;
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

  /// Kills every worker process still running and waits for each.
  void stop_all();

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
