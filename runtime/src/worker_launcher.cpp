#include "worker_launcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

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
    opts_.log_level,     "--store",  opts_.store_socket,    "--data-address",
    opts_.data_address};
  // A job that announced no libraries runs the node's.
  for (auto& lib : libraries.empty() ? opts_.node_libraries : libraries) {
    args.emplace_back("--library");
    args.emplace_back(lib);
  }
  // Its output goes to files of its own, named once its pid is known.
  std::string log_base;
  int out_fd = -1;
  int err_fd = -1;
  auto log_dir = opts_.session_dir.empty() ? std::string{}
                                           : opts_.session_dir + "/logs";
  if (!log_dir.empty()) {
    log_base = log_dir + "/worker-" + std::to_string(job) + "-t"
               + std::to_string(token);
    out_fd = open((log_base + ".out").c_str(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    err_fd = open((log_base + ".err").c_str(),
                  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0 || err_fd < 0) {
      why = "cannot create its log files in " + log_dir + ": "
            + std::strerror(errno);
      if (out_fd >= 0)
        close(out_fd);
      if (err_fd >= 0)
        close(err_fd);
      return 0;
    }
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
    if (out_fd >= 0) {
      close(out_fd);
      close(err_fd);
    }
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
    if (out_fd >= 0 && (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0))
      _exit(127);
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
      for (long fd = 3; fd < max_fd; ++fd)
        close(static_cast<int>(fd));
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (out_fd >= 0) {
    close(out_fd);
    close(err_fd);
    auto named = log_dir + "/worker-" + std::to_string(job) + "-"
                 + std::to_string(pid);
    if (rename((log_base + ".out").c_str(), (named + ".out").c_str()) == 0
        && rename((log_base + ".err").c_str(), (named + ".err").c_str()) == 0)
      log_base = named;
  }
  running_.emplace(pid, std::move(log_base));
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
  auto i = running_.find(pid);
  if (i == running_.end())
    return "ended";
  int status = 0;
  auto got = waitpid(pid, &status, WNOHANG);
  if (got == 0)
    return {};
  auto logs = std::move(i->second);
  running_.erase(i);
  auto result = got < 0 ? "ended (it could not be waited for: "
                            + std::string{std::strerror(errno)} + ")"
                        : describe_status(status);
  if (!logs.empty())
    result += "; its output is in " + logs + ".out and .err";
  return result;
}

void worker_launcher::kill(int32_t pid) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (running_.count(pid) > 0)
    ::kill(pid, SIGKILL);
}

std::vector<std::string>
worker_launcher::keep_libraries(uint64_t job,
                                const std::vector<std::string>& paths,
                                std::vector<std::string>& failed) {
  namespace fs = std::filesystem;
  if (opts_.session_dir.empty())
    return paths;
  std::vector<std::string> result;
  auto dir = fs::path{opts_.session_dir} / "jobs" / std::to_string(job);
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (size_t i = 0; i < paths.size(); ++i) {
    // Numbered: two libraries of one name from different directories.
    auto copy
      = dir
        / (std::to_string(i) + "-" + fs::path{paths[i]}.filename().string());
    if (!ec)
      fs::copy_file(paths[i], copy, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      failed.emplace_back("cannot keep the library '" + paths[i] + "' for job "
                          + std::to_string(job) + " in " + dir.string() + ": "
                          + ec.message());
      ec.clear();
      continue;
    }
    result.emplace_back(copy.string());
  }
  return result;
}

void worker_launcher::stop_all() {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [pid, logs] : running_)
    ::kill(pid, SIGKILL);
  for (auto& [pid, logs] : running_) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ; // again
  }
  running_.clear();
}

} // namespace caraway::runtime
