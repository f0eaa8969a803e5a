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

namespace {

// A worker's output files are logs/worker-<job>-<pid>.out and .err: the job
// and pid of such a name, false for any other file.
bool parse_log_name(const std::string& name, uint64_t& job, int32_t& pid) {
  constexpr char prefix[] = "worker-";
  constexpr char suffix[] = ".out";
  if (name.rfind(prefix, 0) != 0 || name.size() < sizeof(prefix) + 4
      || name.compare(name.size() - 4, 4, suffix) != 0)
    return false;
  auto middle = name.substr(sizeof(prefix) - 1,
                            name.size() - (sizeof(prefix) - 1) - 4);
  auto dash = middle.find('-');
  if (dash == std::string::npos)
    return false;
  auto digits = [](const std::string& x) {
    return !x.empty() && x.size() <= 18
           && std::all_of(x.begin(), x.end(),
                          [](char c) { return c >= '0' && c <= '9'; });
  };
  auto job_text = middle.substr(0, dash);
  auto pid_text = middle.substr(dash + 1);
  if (!digits(job_text) || !digits(pid_text))
    return false;
  job = std::stoull(job_text);
  pid = static_cast<int32_t>(std::stol(pid_text));
  return pid > 0;
}

} // namespace

std::vector<wire::worker_info> worker_launcher::workers() {
  namespace fs = std::filesystem;
  std::vector<wire::worker_info> result;
  if (opts_.session_dir.empty())
    return result;
  std::vector<std::pair<fs::file_time_type, wire::worker_info>> found;
  std::error_code ec;
  auto dir = fs::path{opts_.session_dir} / "logs";
  for (auto& entry : fs::directory_iterator{dir, ec}) {
    wire::worker_info info;
    if (!parse_log_name(entry.path().filename().string(), info.job, info.pid))
      continue;
    auto base = entry.path();
    base.replace_extension();
    info.log = base.string();
    std::error_code size_ec;
    info.out_bytes = fs::file_size(info.log + ".out", size_ec);
    if (size_ec)
      info.out_bytes = 0;
    size_ec.clear();
    info.err_bytes = fs::file_size(info.log + ".err", size_ec);
    if (size_ec)
      info.err_bytes = 0;
    auto when = fs::last_write_time(entry.path(), size_ec);
    found.emplace_back(when, std::move(info));
  }
  std::sort(found.begin(), found.end(), [](auto& x, auto& y) {
    return std::tie(x.second.job, x.second.pid, x.first)
           < std::tie(y.second.job, y.second.pid, y.first);
  });
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [when, info] : found) {
    info.alive = running_.count(info.pid) > 0;
    result.emplace_back(std::move(info));
  }
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
