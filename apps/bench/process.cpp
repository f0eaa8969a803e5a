#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace bench {

namespace {

namespace fs = std::filesystem;

std::runtime_error system_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

// The children still running, for the exit handler.
std::mutex& live_mtx() {
  static std::mutex mtx;
  return mtx;
}

std::vector<pid_t>& live_pids() {
  static std::vector<pid_t> pids;
  return pids;
}

// Runs when `std::exit` skips the destructors that would stop the children:
// nothing may stay behind, so there is no grace period.
void kill_live_children() {
  std::lock_guard<std::mutex> guard{live_mtx()};
  for (auto pid : live_pids()) {
    kill(-pid, SIGKILL);
    for (int i = 0; i < 500 && waitpid(pid, nullptr, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  live_pids().clear();
}

void add_live(pid_t pid) {
  static std::once_flag registered;
  // The vector exists before the handler is registered, so it is destroyed
  // only after the handler ran.
  live_pids();
  std::call_once(registered, [] { std::atexit(kill_live_children); });
  std::lock_guard<std::mutex> guard{live_mtx()};
  live_pids().emplace_back(pid);
}

void remove_live(pid_t pid) {
  std::lock_guard<std::mutex> guard{live_mtx()};
  auto& pids = live_pids();
  pids.erase(std::remove(pids.begin(), pids.end(), pid), pids.end());
}

// The parent's ends of the child's stdin, stdout and stderr: closed once
// the child has its copies, or when starting it fails.
struct std_fds {
  int fds[3] = {-1, -1, -1};

  ~std_fds() {
    for (auto fd : fds)
      if (fd >= 0)
        close(fd);
  }

  void open_at(int i, const std::string& path, int flags) {
    fds[i] = open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fds[i] < 0)
      throw system_error("cannot open " + path);
  }
};

} // namespace

std::string self_exe() {
  std::error_code ec;
  auto path = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    throw std::runtime_error("cannot find the bench's executable: "
                             + ec.message());
  return path.string();
}

temp_dir::temp_dir() {
  auto pattern = (fs::temp_directory_path() / "caraway-bench.XXXXXX").string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.emplace_back('\0');
  if (mkdtemp(buf.data()) == nullptr)
    throw system_error("cannot create a directory in "
                       + fs::temp_directory_path().string());
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

child_process::child_process(const std::vector<std::string>& args,
                             std::string out_path, std::string err_path)
  : name_(fs::path{out_path}.stem().string()),
    out_path_(std::move(out_path)),
    err_path_(std::move(err_path)) {
  if (args.empty() || access(args[0].c_str(), X_OK) != 0)
    throw system_error("cannot run " + (args.empty() ? "" : args[0]));
  // After fork, the child of a multithreaded process may only make
  // async-signal-safe calls: everything it needs is ready before.
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.emplace_back(const_cast<char*>(arg.c_str()));
  argv.emplace_back(nullptr);
  std_fds fds;
  fds.open_at(0, "/dev/null", O_RDONLY);
  fds.open_at(1, out_path_, O_WRONLY | O_CREAT | O_TRUNC);
  fds.open_at(2, err_path_, O_WRONLY | O_CREAT | O_TRUNC);
  auto parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    // SIGTERM lets a node shut down cleanly if the bench dies, even when
    // no destructor or exit handler of the bench gets to run.
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
      _exit(127);
    // Its own process group, so that stopping it reaches whatever it
    // started too.
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    // fds[i] >= i, as they were opened in order: no dup2 overwrites a
    // descriptor still to be copied. One already in place only needs to
    // survive exec.
    for (int i = 0; i < 3; ++i) {
      auto ok = fds.fds[i] == i ? fcntl(i, F_SETFD, 0) == 0
                                : dup2(fds.fds[i], i) == i;
      if (!ok)
        _exit(127);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto fork_errno = errno;
  // Also here: whichever of the two runs first, the group exists before
  // the parent signals it.
  if (pid_ > 0)
    setpgid(pid_, pid_);
  if (pid_ < 0) {
    errno = fork_errno;
    throw system_error("cannot start " + args[0]);
  }
  add_live(pid_);
}

child_process::~child_process() {
  stop(std::chrono::seconds(5));
}

bool child_process::running() {
  if (reaped_ || pid_ <= 0)
    return false;
  auto res = waitpid(pid_, &status_, WNOHANG);
  if (res == 0)
    return true;
  // Also on an error: there is no child left to wait for.
  reaped_ = true;
  if (res < 0)
    status_ = -1;
  remove_live(pid_);
  return false;
}

std::string child_process::stop(clock::duration grace) {
  if (running()) {
    kill(-pid_, SIGTERM);
    auto deadline = clock::now() + grace;
    while (running() && clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (running()) {
      kill(-pid_, SIGKILL);
      // SIGKILL cannot be caught; the bound only guards against a child
      // stuck in the kernel.
      deadline = clock::now() + std::chrono::seconds(5);
      while (running() && clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (running())
        return "still running after SIGKILL";
    }
    // Whatever the child started and left behind.
    kill(-pid_, SIGKILL);
  }
  return describe_status();
}

bool child_process::wait_exit(clock::duration timeout) {
  auto deadline = clock::now() + timeout;
  while (running()) {
    if (clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::string child_process::output() const {
  std::ifstream in{out_path_};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

bool child_process::clean_exit() const {
  return reaped_ && status_ >= 0 && WIFEXITED(status_)
         && WEXITSTATUS(status_) == 0;
}

std::string child_process::describe_status() const {
  if (!reaped_)
    return "running";
  if (status_ < 0)
    return "lost (waitpid failed)";
  if (WIFEXITED(status_))
    return "exited with " + std::to_string(WEXITSTATUS(status_));
  if (WIFSIGNALED(status_))
    return "killed by signal " + std::to_string(WTERMSIG(status_));
  return "ended with status " + std::to_string(status_);
}

std::vector<std::string> child_process::wait_for_line(const std::regex& pattern,
                                                      clock::duration timeout) {
  auto deadline = clock::now() + timeout;
  for (;;) {
    // Checked before reading, so a line written just before exiting counts.
    auto alive = running();
    std::ifstream in{out_path_};
    std::string line;
    std::smatch match;
    while (std::getline(in, line)) {
      if (std::regex_search(line, match, pattern))
        return {match.begin(), match.end()};
    }
    if (!alive)
      throw std::runtime_error(name_ + " " + describe_status()
                               + " before it was ready" + err_tail());
    if (clock::now() >= deadline)
      throw std::runtime_error(
        name_ + " was not ready after "
        + std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(timeout).count())
        + " s" + err_tail());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string child_process::err_tail(size_t n) const {
  std::ifstream in{err_path_};
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.emplace_back(std::move(line));
    if (lines.size() > n)
      lines.pop_front();
  }
  std::string result;
  if (!lines.empty())
    result = "; its stderr ends with:";
  for (auto& x : lines)
    result += "\n  " + x;
  return result;
}

} // namespace bench
