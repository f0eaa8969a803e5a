#pragma once

// What a worker process prints: its stdout and stderr go through pipes to a
// thread that writes each line to the worker's log file (the descriptors it
// started with) and sends it, prefixed with the task that ran, to that
// task's owner.

#include <mutex>
#include <string>
#include <vector>

#include "caraway/wire/interfaces.hpp"

namespace caraway::runtime {

class output_forwarder {
public:
  /// `where`: what follows the task's name in each line's prefix, e.g.
  /// "pid=1234 node=ab12cd34".
  explicit output_forwarder(std::string where);

  output_forwarder(const output_forwarder&) = delete;
  output_forwarder& operator=(const output_forwarder&) = delete;

  /// Puts the pipes in place of stdout and stderr and starts the thread,
  /// which lives as long as the process. Throws `caraway::error` if the
  /// pipes cannot be made.
  void start();

  /// Lines from now on belong to this task (or method call) and go to its
  /// owner.
  void task_started(const wire::task_spec& spec);

  /// Whose lines they are now, to return to after a task that ran inside
  /// another.
  struct task_ref {
    wire::owner_actor owner;
    std::string function;
  };
  task_ref current();
  void restore(task_ref x);

  /// Sends lines that other workers printed for this worker's tasks on to
  /// the owner of its current task, as they are.
  void pass_on(std::vector<std::string> lines);

private:
  void run(int out_pipe, int err_pipe, int out_file, int err_file);

  std::string where_;
  std::mutex mtx_;
  wire::owner_actor owner_;
  std::string function_;
};

} // namespace caraway::runtime
