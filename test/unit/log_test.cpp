// Log lines: date, level, pid and component on each; with files on, each
// component's lines also in its own file, which moves aside past its size.

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "caraway/log.hpp"

namespace fs = std::filesystem;
using namespace caraway;

namespace {

std::string read(const fs::path& path) {
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Files on, in a directory of its own, at info; all off again at the end.
struct log_files {
  fs::path dir;
  int old_threshold = log::threshold.load();

  explicit log_files(uint64_t max_bytes) {
    dir = fs::temp_directory_path()
          / ("caraway-log-test-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    REQUIRE(log::write_files(dir.string(), max_bytes));
    log::threshold = static_cast<int>(log::level::info);
  }

  ~log_files() {
    log::write_files("", 0);
    log::threshold = old_threshold;
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

} // namespace

TEST_CASE("log lines go to a file per component, with date, pid and level") {
  log_files files{0};
  CARAWAY_LOG(info, raylet) << "spillback" << log::kv("node", "n1");
  CARAWAY_LOG(warning, gcs) << "node dead";
  CARAWAY_LOG(debug, raylet) << "below the threshold";
  auto raylet = read(files.dir / "raylet.log");
  std::regex line{R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO )"
                  + std::to_string(::getpid())
                  + R"( \[raylet\] spillback node=n1\n$)"};
  CHECK(std::regex_match(raylet, line));
  CHECK(read(files.dir / "gcs.log")
          .find("WARN " + std::to_string(::getpid()) + " [gcs] node dead\n")
        != std::string::npos);
}

TEST_CASE("a component's log file past its size moves to .1") {
  log_files files{300};
  for (int i = 0; i < 10; ++i)
    CARAWAY_LOG(info, owner) << "line " << i << std::string(40, 'x');
  auto now = read(files.dir / "owner.log");
  auto before = read(files.dir / "owner.log.1");
  CHECK(now.size() <= 300);
  CHECK(before.size() <= 300);
  CHECK(now.find("line 9") != std::string::npos);
  CHECK(before.find("line 9") == std::string::npos);
  CHECK(before.find("line ") != std::string::npos);
}

TEST_CASE("log files refuse a directory that cannot be written") {
  CHECK_FALSE(log::write_files("/nonexistent/caraway-logs", 0));
}
