#include "worker_launcher.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace caraway::runtime {

worker_launcher::worker_launcher(options opts) : opts_(std::move(opts)) {
  // nop
}

worker_launcher::~worker_launcher() {
  stop_all();
}

void worker_launcher::addresses(std::string raylet, std::string head) {
  std::lock_guard<std::mutex> guard{mtx_};
  opts_.raylet_address = std::move(raylet);
  opts_.head_address = std::move(head);
}

int32_t worker_launcher::start(uint64_t job,
                               const std::vector<std::string>& libraries,
                               uint64_t token, std::string& why) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (access(opts_.binary.c_str(), X_OK) != 0) {
    why = "cannot run the worker program '" + opts_.binary
          + "': " + std::strerror(errno);
    return 0;
  }
  std::vector<std::string> args{
    opts_.binary,        "--raylet", opts_.raylet_address,  "--head",
    opts_.head_address,  "--node",   opts_.node_id,         "--job",
    std::to_string(job), "--token",  std::to_string(token), "--log-level",
    opts_.log_level};
  for (auto& lib : libraries) {
    args.emplace_back("--library");
    args.emplace_back(lib);
  }
  // Everything the child needs is ready before fork: between fork and exec
  // it may only make system calls.
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto parent = getpid();
  auto max_fd = sysconf(_SC_OPEN_MAX);
  auto pid = fork();
  if (pid < 0) {
    why = std::string{"fork failed: "} + std::strerror(errno);
    return 0;
  }
  if (pid == 0) {
    // Dies with the daemon, even if it is killed; and holds none of its
    // sockets (a listening port would outlive a daemon restart).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    // The daemon blocks its signals in all threads but one; the worker
    // starts with none blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
      for (long fd = 3; fd < max_fd; ++fd)
        close(static_cast<int>(fd));
    execv(argv[0], argv.data());
    _exit(127);
  }
  running_.insert(pid);
  return static_cast<int32_t>(pid);
}

std::string worker_launcher::describe_status(int status) {
  if (WIFEXITED(status))
    return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    auto sig = WTERMSIG(status);
    auto* abbrev = sigabbrev_np(sig);
    return "was killed by signal " + std::to_string(sig)
           + (abbrev != nullptr ? std::string{" (SIG"} + abbrev + ")"
                                : std::string{});
  }
  return "ended (wait status " + std::to_string(status) + ")";
}

std::string worker_launcher::reap(int32_t pid) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (running_.count(pid) == 0)
    return "ended";
  int status = 0;
  auto got = waitpid(pid, &status, WNOHANG);
  if (got == 0)
    return {};
  running_.erase(pid);
  if (got < 0)
    return "ended (it could not be waited for: "
           + std::string{std::strerror(errno)} + ")";
  return describe_status(status);
}

void worker_launcher::kill(int32_t pid) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (running_.count(pid) > 0)
    ::kill(pid, SIGKILL);
}

void worker_launcher::stop_all() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto pid : running_)
    ::kill(pid, SIGKILL);
  for (auto pid : running_) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ; // again
  }
  running_.clear();
}

} // namespace caraway::runtime
