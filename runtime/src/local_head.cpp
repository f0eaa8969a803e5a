#include "local_head.hpp"

#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "caraway/error.hpp"

namespace caraway::runtime {

namespace {

std::string amount_text(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

// Waits up to `timeout` for the child to end; true if it did (reaped).
bool reap_within(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    auto got = waitpid(pid, &status, WNOHANG);
    if (got == pid || (got < 0 && errno != EINTR))
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace

std::string local_head::find_binary(const config& cfg, std::string& why) {
  std::vector<std::string> tried;
  if (!cfg.node_binary.empty()) {
    tried.push_back(cfg.node_binary);
  } else {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec)
      tried.push_back((exe.parent_path() / "caraway-node").string());
#ifdef CARAWAY_INSTALL_BINDIR
    tried.emplace_back(CARAWAY_INSTALL_BINDIR "/caraway-node");
#endif
  }
  for (auto& path : tried)
    if (access(path.c_str(), X_OK) == 0)
      return path;
  why = "no caraway-node program to run for worker processes (tried";
  for (auto& path : tried)
    why += " " + path;
  why += "); name one with --caraway-node-binary";
  return {};
}

std::vector<std::string> local_head::arguments(const config& cfg) {
  // Part of the application: it speaks up for errors only, unless the
  // application asked to hear more.
  auto level = cfg.log_level == "trace" || cfg.log_level == "debug"
                   || cfg.log_level == "info"
                 ? cfg.log_level
                 : std::string{"error"};
  std::vector<std::string> args{
    "--role", "head",          "--host",    "127.0.0.1",   "--port",
    "0",      "--worker-mode", "processes", "--log-level", level};
  if (cfg.num_cpus >= 0) {
    args.emplace_back("--num-cpus");
    args.emplace_back(amount_text(cfg.num_cpus));
  }
  if (cfg.num_gpus > 0) {
    args.emplace_back("--num-gpus");
    args.emplace_back(amount_text(cfg.num_gpus));
  }
  if (!cfg.resources.empty()) {
    std::string text;
    for (auto& [name, amount] : cfg.resources)
      text += (text.empty() ? "" : ",") + name + ":" + amount_text(amount);
    args.emplace_back("--resources");
    args.emplace_back(text);
  }
  if (cfg.object_store_memory > 0) {
    args.emplace_back("--object-store-memory");
    args.emplace_back(std::to_string(cfg.object_store_memory));
  }
  args.emplace_back("--max-workers");
  args.emplace_back(std::to_string(cfg.max_workers));
  if (!cfg.tls_ca.empty())
    args.insert(args.end(), {"--tls-ca", cfg.tls_ca, "--tls-cert", cfg.tls_cert,
                             "--tls-key", cfg.tls_key});
  else if (!cfg.tls_dir.empty())
    args.insert(args.end(), {"--tls-dir", cfg.tls_dir});
  else if (cfg.insecure_loopback)
    args.emplace_back("--insecure-loopback");
  return args;
}

local_head::local_head(const config& cfg) {
  std::string why;
  auto binary = find_binary(cfg, why);
  if (binary.empty())
    throw error(why);
  std::vector<std::string> args{binary};
  for (auto& arg : arguments(cfg))
    args.push_back(std::move(arg));
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  // Its first line on stdout says where it listens.
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    throw error(std::string{"cannot start caraway-node: "}
                + std::strerror(errno));
  auto parent = getpid();
  auto max_fd = sysconf(_SC_OPEN_MAX);
  pid_ = fork();
  if (pid_ < 0) {
    close(out[0]);
    close(out[1]);
    throw error(std::string{"cannot start caraway-node: fork failed: "}
                + std::strerror(errno));
  }
  // Stops with the application, even one killed outright.
  if (pid_ == 0)
    exec_child(parent, SIGTERM, out[1], -1, argv.data(), max_fd);
  close(out[1]);
  // "caraway-node head listening on 127.0.0.1:PORT node ID", within the
  // time a driver gives a head to answer.
  std::string line;
  auto deadline = std::chrono::steady_clock::now()
                  + std::chrono::milliseconds(
                    std::max<uint32_t>(cfg.connect_timeout_ms, 10000));
  bool done = false;
  while (!done) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0)
      break;
    pollfd fd{out[0], POLLIN, 0};
    auto n = poll(&fd, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    char c;
    auto got = read(out[0], &c, 1);
    if (got <= 0)
      break;
    if (c == '\n')
      done = true;
    else
      line += c;
  }
  close(out[0]);
  constexpr char marker[] = " listening on ";
  auto at = line.find(marker);
  if (!done || at == std::string::npos) {
    stop();
    throw error("caraway-node (" + binary + ") did not start: it printed '"
                + line + "'; its errors are above");
  }
  auto rest = line.substr(at + sizeof(marker) - 1);
  address_ = rest.substr(0, rest.find(' '));
}

local_head::~local_head() {
  stop();
}

void local_head::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0)
    return;
  if (grace.count() > 0 && reap_within(pid_, grace)) {
    pid_ = -1;
    return;
  }
  kill(pid_, SIGTERM);
  if (!reap_within(pid_, std::chrono::seconds(10))) {
    kill(pid_, SIGKILL);
    reap_within(pid_, std::chrono::seconds(10));
  }
  pid_ = -1;
}

} // namespace caraway::runtime
