#pragma once

// What a worker process prints: its stdout and stderr go through pipes to a
// thread that writes each line to the worker's log file (the descriptors it
// started with) and sends it, prefixed with the task that ran, to that
// task's owner.

#include <condition_variable>
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

  /// Before the lines change hands: what was printed so far is read and
  /// sent with the task that printed it (waits briefly, under `lock`).
  void drain(std::unique_lock<std::mutex>& lock);

  std::string where_;
  std::mutex mtx_;
  std::condition_variable drained_;
  /// The forwarding thread holds lines it read but has not sent yet.
  bool busy_ = false;
  int pipes_[2] = {-1, -1};
  wire::owner_actor owner_;
  std::string function_;
};

} // namespace caraway::runtime
