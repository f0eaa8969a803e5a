#pragma once

// The child's side of fork/exec for the processes caraway starts (a node's
// worker processes, an application's own head). Between fork and exec only
// system calls: everything is prepared by the parent.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace caraway::runtime {

/// Runs `argv` in the forked child of `parent`: it gets `death_signal` when
/// the parent dies (also if killed outright) and none of the parent's
/// blocked signals or descriptors, only stdout to `out_fd` and stderr to
/// `err_fd` where those are not negative. Never returns.
[[noreturn]] inline void exec_child(pid_t parent, int death_signal, int out_fd,
                                    int err_fd, char* const argv[],
                                    long max_fd) {
  prctl(PR_SET_PDEATHSIG, death_signal);
  if (getppid() != parent)
    _exit(127);
  // The parent blocks signals in all threads but one; the child starts with
  // none blocked.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if ((out_fd >= 0 && dup2(out_fd, 1) < 0)
      || (err_fd >= 0 && dup2(err_fd, 2) < 0))
    _exit(127);
  // None of the parent's sockets: a listening port would outlive it.
  if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
    for (long fd = 3; fd < max_fd; ++fd)
      close(static_cast<int>(fd));
  execv(argv[0], argv);
  _exit(127);
}

} // namespace caraway::runtime
