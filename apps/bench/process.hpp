#pragma once

// Child processes for the multi-process measurements: the CAF echo server
// and the nodes of a local cluster. Nothing started here may outlive the
// bench, whichever way it ends.

#include <sys/types.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "measure.hpp"

namespace bench {

/// The path of the running executable.
std::string self_exe();

/// A fresh directory for the output of child processes; removed with all
/// its contents when this object dies.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const {
    return path_;
  }

private:
  std::string path_;
};

/// A child process with stdin from /dev/null and stdout and stderr in files.
/// It gets SIGTERM when the bench dies, even by SIGKILL; when this object
/// dies it stops the child (SIGTERM, then SIGKILL after a grace period),
/// and an exit handler kills whatever `std::exit` would leave behind.
class child_process {
public:
  /// Starts `args[0]` (a path) with `args`; throws if it cannot. Errors
  /// name the child after its stdout file, without the extension.
  child_process(const std::vector<std::string>& args, std::string out_path,
                std::string err_path);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Still running; reaps the child once it has exited.
  bool running();

  /// Stops the child if it still runs: SIGTERM, then SIGKILL after `grace`.
  /// Returns how it ended, e.g. "exited with 0" or "killed by signal 9".
  std::string stop(clock::duration grace);

  /// Waits up to `timeout` for the child to exit by itself; returns whether
  /// it did.
  bool wait_exit(clock::duration timeout);

  /// True if the child exited with code 0.
  bool clean_exit() const;

  /// Everything the child wrote to stdout so far.
  std::string output() const;

  /// Waits until a line of stdout matches `pattern` and returns the match
  /// and its groups; throws if the child exits first or `timeout` passes.
  std::vector<std::string> wait_for_line(const std::regex& pattern,
                                         clock::duration timeout);

  /// The last `n` lines of the child's stderr, each indented, for errors.
  std::string err_tail(size_t n = 20) const;

  const std::string& name() const {
    return name_;
  }

private:
  std::string describe_status() const;

  std::string name_;
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

} // namespace bench
