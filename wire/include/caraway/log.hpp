#pragma once

// One log macro for all components, off below the configured level:
//   CARAWAY_LOG(info, raylet) << "spillback" << kv("task", id);

#include <atomic>
#include <cstdint>
#include <sstream>
#include <string>

namespace caraway::log {

enum class level : int { trace = 0, debug, info, warning, error, off };

/// The current threshold; messages below it cost one comparison.
extern std::atomic<int> threshold;

/// Parses "trace" ... "off"; returns false on an unknown name.
bool parse_level(const std::string& name, level& out);

/// From now on, each component's lines also go to `dir`/<component>.log
/// (appended to, created as needed); a file past `max_bytes` moves to
/// <component>.log.1, replacing the one before, and starts again. An empty
/// `dir` stops writing files. False (and nothing changes) if `dir` is not
/// a writable directory.
bool write_files(const std::string& dir, uint64_t max_bytes);

/// Collects one line and prints it to stderr when destroyed.
class line {
public:
  line(level lvl, const char* component);
  ~line();

  template <class T>
  line& operator<<(const T& x) {
    out_ << x;
    return *this;
  }

private:
  const char* component_;
  std::ostringstream out_;
};

template <class T>
struct key_value {
  const char* key;
  const T& value;
};

template <class T>
key_value<T> kv(const char* key, const T& value) {
  return {key, value};
}

template <class T>
std::ostream& operator<<(std::ostream& out, const key_value<T>& x) {
  return out << ' ' << x.key << '=' << x.value;
}

} // namespace caraway::log

// A one-pass loop rather than if/else: no dangling else at the call site.
#define CARAWAY_LOG(lvl, component)                                            \
  for (bool caraway_log_on_                                                    \
       = static_cast<int>(::caraway::log::level::lvl)                          \
         >= ::caraway::log::threshold.load(std::memory_order_relaxed);         \
       caraway_log_on_; caraway_log_on_ = false)                               \
  ::caraway::log::line(::caraway::log::level::lvl, #component)
