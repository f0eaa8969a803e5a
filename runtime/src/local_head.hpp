#pragma once

// A head node of one's own: `caraway-node` started as a child process on a
// free loopback port, for an application that asked for worker processes
// without naming a cluster (`--caraway-worker-processes`). The application
// then drives it like any cluster, and stops it when it shuts down.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "caraway/config.hpp"

namespace caraway::runtime {

class local_head {
public:
  /// Starts the daemon and waits until it listens; throws `caraway::error`
  /// naming the program and why if it cannot.
  explicit local_head(const config& cfg);

  /// Stops the daemon (`stop`).
  ~local_head();

  local_head(const local_head&) = delete;
  local_head& operator=(const local_head&) = delete;

  /// Where it listens: 127.0.0.1:<port>.
  const std::string& address() const {
    return address_;
  }

  /// Waits up to `grace` for the daemon to end (it was asked to stop through
  /// its gcs), then stops it with SIGTERM, then SIGKILL 10 s later. Its
  /// worker processes end with it.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  /// The daemon program: `cfg.node_binary`, else `caraway-node` next to
  /// this executable, else the installed one; empty (with what was tried
  /// in `why`) if none can be run.
  static std::string find_binary(const config& cfg, std::string& why);

  /// The daemon's command line for `cfg` (without the program).
  static std::vector<std::string> arguments(const config& cfg);

private:
  pid_t pid_ = -1;
  std::string address_;
};

} // namespace caraway::runtime
