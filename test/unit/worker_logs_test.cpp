// A node's worker processes as `caraway logs` sees them: their output files
// in the session directory, and the end of each.

#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "worker_launcher.hpp"

using caraway::runtime::worker_launcher;
namespace fs = std::filesystem;

namespace {

// A session directory of its own, removed at the end of the test.
struct session_dir {
  fs::path path;

  session_dir() {
    path = fs::temp_directory_path()
           / ("caraway-logs-test-" + std::to_string(getpid()));
    fs::remove_all(path);
    fs::create_directories(path / "logs");
  }

  ~session_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }

  void write(const std::string& name, const std::string& text) const {
    std::ofstream{path / "logs" / name, std::ios::binary} << text;
  }
};

} // namespace

TEST_CASE("the end of a worker's output file") {
  session_dir dir;
  dir.write("f", "one\ntwo\nthree\n");
  auto file = (dir.path / "logs" / "f").string();
  CHECK(worker_launcher::tail(file, 2, 1 << 20) == "two\nthree\n");
  CHECK(worker_launcher::tail(file, 1, 1 << 20) == "three\n");
  CHECK(worker_launcher::tail(file, 0, 1 << 20) == "one\ntwo\nthree\n");
  CHECK(worker_launcher::tail(file, 10, 1 << 20) == "one\ntwo\nthree\n");
  // A last line still being written counts as a line.
  dir.write("g", "one\ntwo");
  auto partial = (dir.path / "logs" / "g").string();
  CHECK(worker_launcher::tail(partial, 1, 1 << 20) == "two");
  // Past the byte limit, what is left out is said.
  CHECK(worker_launcher::tail(file, 0, 6)
        == "[8 earlier bytes not shown]\nthree\n");
  CHECK(worker_launcher::tail(file, 1, 8)
        == "[8 earlier bytes not shown]\nthree\n");
  CHECK(worker_launcher::tail((dir.path / "missing").string(), 0, 100).empty());
}

TEST_CASE("a node lists its workers from their output files") {
  session_dir dir;
  dir.write("worker-3-111.out", "hello\nworld\n");
  dir.write("worker-3-111.err", "oops\n");
  dir.write("worker-2-222.out", "");
  dir.write("worker-2-222.err", "");
  // Not workers' files: a worker's files before its pid is known, others.
  dir.write("worker-3-t5.out", "x");
  dir.write("notes.out", "x");
  worker_launcher::options opts;
  opts.session_dir = dir.path.string();
  worker_launcher launcher{opts};
  auto workers = launcher.workers();
  REQUIRE(workers.size() == 2);
  CHECK(workers[0].job == 2);
  CHECK(workers[0].pid == 222);
  CHECK(workers[1].job == 3);
  CHECK(workers[1].pid == 111);
  CHECK_FALSE(workers[1].alive);
  CHECK(workers[1].out_bytes == 12);
  CHECK(workers[1].err_bytes == 5);
  CHECK(workers[1].log == (dir.path / "logs" / "worker-3-111").string());
  std::string out;
  std::string err;
  REQUIRE(launcher.output(111, 1, out, err));
  CHECK(out == "world\n");
  CHECK(err == "oops\n");
  CHECK_FALSE(launcher.output(999, 0, out, err));
}

TEST_CASE("a node without a session directory lists no workers") {
  worker_launcher launcher{worker_launcher::options{}};
  CHECK(launcher.workers().empty());
  std::string out;
  std::string err;
  CHECK_FALSE(launcher.output(1, 0, out, err));
}
