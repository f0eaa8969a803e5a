#include "caraway/log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>

namespace caraway::log {

std::atomic<int> threshold{static_cast<int>(level::warning)};

namespace {

// The files of `write_files`: one per component, opened on its first line.
struct file_sink {
  // Without files, a line costs no lock.
  std::atomic<bool> on{false};
  std::mutex mtx;
  std::string dir;
  uint64_t max_bytes = 0;
  struct file {
    std::FILE* handle = nullptr;
    uint64_t size = 0;
  };
  std::map<std::string, file> files;

  void close_all() {
    for (auto& [name, f] : files)
      if (f.handle != nullptr)
        std::fclose(f.handle);
    files.clear();
  }

  std::string path_of(const std::string& component) const {
    return dir + "/" + component + ".log";
  }

  bool open(const std::string& component, file& f) {
    f.handle = std::fopen(path_of(component).c_str(), "a");
    if (f.handle == nullptr)
      return false;
    // A line reaches the file as it is written: a crash loses none.
    std::setvbuf(f.handle, nullptr, _IOLBF, 0);
    std::fseek(f.handle, 0, SEEK_END);
    auto at = std::ftell(f.handle);
    f.size = at > 0 ? static_cast<uint64_t>(at) : 0;
    return true;
  }

  void write(const std::string& component, const std::string& text) {
    if (!on.load(std::memory_order_acquire))
      return;
    std::lock_guard<std::mutex> guard{mtx};
    if (dir.empty())
      return;
    auto& f = files[component];
    if (f.handle == nullptr && !open(component, f))
      return;
    if (max_bytes > 0 && f.size > 0 && f.size + text.size() > max_bytes) {
      std::fclose(f.handle);
      f.handle = nullptr;
      auto path = path_of(component);
      std::rename(path.c_str(), (path + ".1").c_str());
      if (!open(component, f))
        return;
    }
    std::fwrite(text.data(), 1, text.size(), f.handle);
    f.size += text.size();
  }
};

file_sink& sink() {
  // Never destroyed: threads may log while the process exits.
  static auto* instance = new file_sink;
  return *instance;
}

} // namespace

bool parse_level(const std::string& name, level& out) {
  static constexpr const char* names[] = {"trace",   "debug", "info",
                                          "warning", "error", "off"};
  for (int i = 0; i < 6; ++i) {
    if (name == names[i]) {
      out = static_cast<level>(i);
      return true;
    }
  }
  return false;
}

bool write_files(const std::string& dir, uint64_t max_bytes) {
  if (!dir.empty() && ::access(dir.c_str(), W_OK | X_OK) != 0)
    return false;
  auto& s = sink();
  std::lock_guard<std::mutex> guard{s.mtx};
  s.close_all();
  s.dir = dir;
  s.max_bytes = max_bytes;
  s.on.store(!dir.empty(), std::memory_order_release);
  return true;
}

line::line(level lvl, const char* component) : component_(component) {
  static constexpr const char* names[] = {"TRACE", "DEBUG", "INFO",
                                          "WARN",  "ERROR", "OFF"};
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  // ISO 8601 in UTC, so that logs of different machines and days sort; the
  // pid tells a node's daemon from its worker processes.
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp),
                "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %d [",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms),
                names[static_cast<int>(lvl)], static_cast<int>(::getpid()));
  out_ << stamp << component << "] ";
}

line::~line() {
  out_ << '\n';
  auto text = out_.str();
  std::fwrite(text.data(), 1, text.size(), stderr);
  sink().write(component_, text);
}

} // namespace caraway::log
