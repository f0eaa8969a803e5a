#include "caraway/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace caraway::log {

std::atomic<int> threshold{static_cast<int>(level::warning)};

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

line::line(level lvl, const char* component) {
  static constexpr const char* names[] = {"TRACE", "DEBUG", "INFO",
                                          "WARN",  "ERROR", "OFF"};
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  // ISO 8601 in UTC, so that logs of different machines and days sort.
  char stamp[40];
  std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out_ << stamp << ' ' << names[static_cast<int>(lvl)] << " [" << component
       << "] ";
}

line::~line() {
  out_ << '\n';
  auto text = out_.str();
  std::fwrite(text.data(), 1, text.size(), stderr);
}

} // namespace caraway::log
