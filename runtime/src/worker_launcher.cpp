#include "worker_launcher.hpp"

#include "child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <tuple>

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
  std::vector<std::string> args{opts_.binary,
                                "--raylet",
                                opts_.raylet_address,
                                "--head",
                                opts_.head_address,
                                "--node",
                                opts_.node_id,
                                "--job",
                                std::to_string(job),
                                "--token",
                                std::to_string(token),
                                "--log-level",
                                opts_.log_level,
                                "--store",
                                opts_.store_socket,
                                "--data-address",
                                opts_.data_address,
                                "--max-message-bytes",
                                std::to_string(opts_.max_message_bytes)};
  if (!opts_.tls_ca.empty())
    args.insert(args.end(), {"--tls-ca", opts_.tls_ca, "--tls-cert",
                             opts_.tls_cert, "--tls-key", opts_.tls_key});
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
  // Dies with the daemon, even if it is killed.
  if (pid == 0)
    exec_child(parent, SIGKILL, out_fd, err_fd, argv.data(), max_fd);
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
  // No worker loads the jobs' library copies any more; the logs stay, for
  // a look at what went wrong.
  if (!opts_.session_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(
      std::filesystem::path{opts_.session_dir} / "jobs", ec);
  }
}

std::vector<wire::worker_info> worker_launcher::workers() {
  namespace fs = std::filesystem;
  std::vector<wire::worker_info> result;
  if (opts_.session_dir.empty())
    return result;
  // A worker's output files are logs/worker-<job>-<pid>.out and .err (a
  // name with "-t<token>" is one whose pid was not known yet).
  static const std::regex name{R"(worker-(\d{1,18})-(\d{1,9})\.out)"};
  std::error_code ec;
  for (auto& entry :
       fs::directory_iterator{fs::path{opts_.session_dir} / "logs", ec}) {
    std::smatch m;
    auto file = entry.path().filename().string();
    if (!std::regex_match(file, m, name))
      continue;
    wire::worker_info info;
    info.job = std::stoull(m[1]);
    info.pid = static_cast<int32_t>(std::stol(m[2]));
    info.log = (entry.path().parent_path() / entry.path().stem()).string();
    // 0 for a file gone meanwhile.
    auto size_of = [](const std::string& path) -> uint64_t {
      std::error_code size_ec;
      auto n = fs::file_size(path, size_ec);
      return size_ec ? 0 : n;
    };
    info.out_bytes = size_of(info.log + ".out");
    info.err_bytes = size_of(info.log + ".err");
    result.emplace_back(std::move(info));
  }
  std::sort(result.begin(), result.end(), [](auto& x, auto& y) {
    return std::tie(x.job, x.pid) < std::tie(y.job, y.pid);
  });
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& info : result)
    info.alive = running_.count(info.pid) > 0;
  return result;
}

bool worker_launcher::output(int32_t pid, uint32_t lines, std::string& out,
                             std::string& err, size_t max_bytes) {
  for (auto& info : workers()) {
    if (info.pid != pid)
      continue;
    out = tail(info.log + ".out", lines, max_bytes);
    err = tail(info.log + ".err", lines, max_bytes);
    return true;
  }
  return false;
}

std::string worker_launcher::tail(const std::string& path, uint32_t lines,
                                  size_t max_bytes) {
  std::ifstream in{path, std::ios::binary | std::ios::ate};
  if (!in)
    return {};
  auto size = static_cast<size_t>(in.tellg());
  auto start = size > max_bytes ? size - max_bytes : 0;
  std::string text(size - start, '\0');
  in.seekg(static_cast<std::streamoff>(start));
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  size_t cut = 0;
  if (lines > 0) {
    // The start of the last `lines` lines (a last line without its newline
    // counts too).
    size_t seen = 0;
    auto pos = text.size();
    if (pos > 0 && text[pos - 1] == '\n')
      --pos;
    while (pos > 0) {
      auto nl = text.rfind('\n', pos - 1);
      if (nl == std::string::npos)
        break;
      if (++seen == lines) {
        cut = nl + 1;
        break;
      }
      pos = nl;
    }
  }
  // Lines left out as asked go unmentioned; bytes past the limit do not.
  auto left_out = start + cut;
  text.erase(0, cut);
  if (start > 0)
    text.insert(0,
                "[" + std::to_string(left_out) + " earlier bytes not shown]\n");
  return text;
}

} // namespace caraway::runtime
