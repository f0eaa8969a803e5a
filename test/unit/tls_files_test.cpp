// The certificates of a cluster's mutual TLS: `caraway tls init` and
// `caraway tls issue`, and which files a process uses.

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "caraway/config.hpp"
#include "caraway/error.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/runtime/tls_files.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
namespace tls = caraway::runtime::tls;

namespace {

using caraway::test::temp_dir;

unsigned mode_of(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::string contents(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, {}};
}

// The message of what `f` threw.
template <class F>
std::string failure_of(F f) {
  try {
    f();
  } catch (const caraway::error& err) {
    return err.what();
  }
  FAIL("nothing was thrown");
  return {};
}

} // namespace

TEST_CASE("tls init makes a CA and certificates for nodes and clients") {
  temp_dir dir;
  auto written = tls::init(dir.tls);
  CHECK(written
        == std::vector<std::string>{dir.file("ca.key"), dir.file("ca.pem"),
                                    dir.file("node.key"), dir.file("node.pem"),
                                    dir.file("client.key"),
                                    dir.file("client.pem")});
  CHECK(mode_of(dir.tls) == 0700);
  for (auto name : {"ca", "node", "client"}) {
    CAPTURE(name);
    CHECK(mode_of(dir.file(name + std::string{".key"})) == 0600);
    CHECK(mode_of(dir.file(name + std::string{".pem"})) == 0644);
  }
  // Nothing else is left there: the files written aside are gone.
  CHECK(std::distance(fs::directory_iterator{dir.tls}, fs::directory_iterator{})
        == 6);
  std::string why;
  CHECK(tls::verify(dir.file("ca.pem"), dir.file("node.pem"), why));
  CHECK(why.empty());
  CHECK(tls::verify(dir.file("ca.pem"), dir.file("client.pem"), why));
}

TEST_CASE("tls issue makes one more certificate signed by the CA") {
  temp_dir dir;
  tls::init(dir.tls);
  auto written = tls::issue(dir.tls, "worker-1.example_x");
  CHECK(written
        == std::vector<std::string>{dir.file("worker-1.example_x.key"),
                                    dir.file("worker-1.example_x.pem")});
  CHECK(mode_of(dir.file("worker-1.example_x.key")) == 0600);
  std::string why;
  CHECK_MESSAGE(tls::verify(dir.file("ca.pem"),
                            dir.file("worker-1.example_x.pem"), why),
                why);
  // A name taken is refused, unless forced.
  auto taken = failure_of([&] { tls::issue(dir.tls, "node"); });
  CHECK(taken.find(dir.file("node.key")) != std::string::npos);
  tls::issue(dir.tls, "node", {}, /*force=*/true);
  CHECK(tls::verify(dir.file("ca.pem"), dir.file("node.pem"), why));
}

TEST_CASE("tls init refuses to overwrite a file unless forced") {
  temp_dir dir;
  tls::init(dir.tls);
  auto again = failure_of([&] { tls::init(dir.tls); });
  CHECK(again.find(dir.file("ca.key")) != std::string::npos);
  // One file left is enough to refuse, and it is named.
  for (auto name : {"ca.key", "ca.pem", "node.key", "client.key", "client.pem"})
    fs::remove(dir.file(name));
  auto one = failure_of([&] { tls::init(dir.tls); });
  CHECK(one.find(dir.file("node.pem")) != std::string::npos);
  // Nothing was written by the refused init.
  CHECK_FALSE(fs::exists(dir.file("ca.pem")));
  tls::init(dir.tls, {}, /*force=*/true);
  std::string why;
  CHECK(tls::verify(dir.file("ca.pem"), dir.file("node.pem"), why));
}

TEST_CASE("tls issue without a CA names the missing file") {
  temp_dir dir;
  auto no_dir = failure_of([&] { tls::issue(dir.tls, "extra"); });
  CHECK(no_dir.find(dir.file("ca.pem")) != std::string::npos);
  tls::init(dir.tls);
  fs::remove(dir.file("ca.key"));
  auto no_key = failure_of([&] { tls::issue(dir.tls, "extra"); });
  CHECK(no_key.find(dir.file("ca.key")) != std::string::npos);
  CHECK_FALSE(fs::exists(dir.file("extra.pem")));
}

TEST_CASE("tls verify rejects an expired certificate") {
  temp_dir dir;
  tls::init(dir.tls);
  tls::issue(dir.tls, "old", tls::validity{-10, 1});
  std::string why;
  CHECK_FALSE(tls::verify(dir.file("ca.pem"), dir.file("old.pem"), why));
  CHECK(why.find("expired") != std::string::npos);
}

TEST_CASE("tls verify rejects a certificate signed by another CA") {
  temp_dir dir;
  temp_dir other;
  tls::init(dir.tls);
  tls::init(other.tls);
  std::string why;
  CHECK_FALSE(tls::verify(dir.file("ca.pem"), other.file("node.pem"), why));
  CHECK_FALSE(why.empty());
  // A file that is no certificate is a failure too, not an exception.
  CHECK_FALSE(tls::verify(dir.file("ca.pem"), dir.file("node.key"), why));
  CHECK(why.find(dir.file("node.key")) != std::string::npos);
}

TEST_CASE(
  "tls verify trusts every CA of a bundle, as while moving to a new CA") {
  temp_dir old_ca;
  temp_dir new_ca;
  temp_dir stranger;
  tls::init(old_ca.tls);
  tls::init(new_ca.tls);
  tls::init(stranger.tls);
  auto bundle = old_ca.path + "/both.pem";
  {
    std::ofstream out{bundle};
    out << contents(old_ca.file("ca.pem")) << contents(new_ca.file("ca.pem"));
  }
  std::string why;
  CHECK(tls::verify(bundle, old_ca.file("node.pem"), why));
  CHECK(tls::verify(bundle, new_ca.file("client.pem"), why));
  CHECK_FALSE(tls::verify(bundle, stranger.file("node.pem"), why));
  CHECK_FALSE(tls::verify(old_ca.file("ca.pem"), new_ca.file("node.pem"), why));
  auto empty = old_ca.path + "/empty.pem";
  std::ofstream{empty} << "no certificate here\n";
  CHECK_FALSE(tls::verify(empty, old_ca.file("node.pem"), why));
  CHECK(why.find(empty) != std::string::npos);
}

TEST_CASE("tls issue refuses names that are no plain file names") {
  temp_dir dir;
  tls::init(dir.tls);
  for (auto name : {"", "ca", "CA", "../x", "a/b", ".hidden", "a b", "é"}) {
    CAPTURE(name);
    CHECK_THROWS_AS(tls::issue(dir.tls, name), caraway::invalid_argument_error);
  }
  CHECK_THROWS_AS(tls::issue(dir.tls, std::string(65, 'x')),
                  caraway::invalid_argument_error);
  CHECK_THROWS_AS(tls::issue(dir.tls, "x", tls::validity{-1, 0}),
                  caraway::invalid_argument_error);
  CHECK(std::distance(fs::directory_iterator{dir.tls}, fs::directory_iterator{})
        == 6);
}

using caraway::runtime::resolve_tls;
using caraway::runtime::tls_role;

TEST_CASE("with no TLS options a process uses its user's own files") {
  temp_dir dir;
  caraway::config daemon;
  resolve_tls(daemon, tls_role::daemon, dir.tls);
  CHECK(daemon.tls_ca == dir.file("ca.pem"));
  CHECK(daemon.tls_cert == dir.file("node.pem"));
  CHECK(daemon.tls_key == dir.file("node.key"));
  CHECK(mode_of(dir.tls) == 0700);
  CHECK(mode_of(dir.file("node.key")) == 0600);
  auto ca = contents(dir.file("ca.pem"));
  REQUIRE_FALSE(ca.empty());
  // Made once: the next process finds them.
  caraway::config client;
  resolve_tls(client, tls_role::client, dir.tls);
  CHECK(client.tls_cert == dir.file("client.pem"));
  CHECK(client.tls_key == dir.file("client.key"));
  CHECK(contents(dir.file("ca.pem")) == ca);
}

TEST_CASE("processes starting together make the user's own files once") {
  temp_dir dir;
  constexpr int n = 4;
  std::vector<std::string> errors(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      try {
        caraway::config cfg;
        resolve_tls(cfg, i % 2 == 0 ? tls_role::daemon : tls_role::client,
                    dir.tls);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (auto& t : threads)
    t.join();
  for (auto& e : errors)
    CHECK(e.empty());
  std::string why;
  CHECK(tls::verify(dir.file("ca.pem"), dir.file("node.pem"), why));
  CHECK(tls::verify(dir.file("ca.pem"), dir.file("client.pem"), why));
}

TEST_CASE("the user's own files are refused when others can reach them") {
  temp_dir dir;
  caraway::config cfg;
  resolve_tls(cfg, tls_role::daemon, dir.tls);
  ::chmod(dir.file("node.key").c_str(), 0640);
  caraway::config again;
  CHECK(failure_of([&] { resolve_tls(again, tls_role::daemon, dir.tls); })
        == "'" + dir.file("node.key")
             + "' has mode 0640: other users could use the cluster's TLS "
               "files; chmod go-rwx it");
  ::chmod(dir.file("node.key").c_str(), 0600);
  ::chmod(dir.tls.c_str(), 0755);
  CHECK(failure_of([&] {
          resolve_tls(again, tls_role::client, dir.tls);
        }).find("'" + dir.tls + "' has mode 0755")
        == 0);
  ::chmod(dir.tls.c_str(), 0700);
  CHECK_NOTHROW(resolve_tls(again, tls_role::client, dir.tls));
}

TEST_CASE("tls-dir names a directory's files by role") {
  temp_dir dir;
  tls::init(dir.tls);
  caraway::config cfg;
  cfg.tls_dir = dir.tls;
  // The own directory is not touched when one is named.
  resolve_tls(cfg, tls_role::daemon, dir.path + "/own");
  CHECK(cfg.tls_cert == dir.file("node.pem"));
  CHECK(cfg.tls_dir.empty());
  CHECK_FALSE(fs::exists(dir.path + "/own"));
  caraway::config missing;
  missing.tls_dir = dir.path + "/nowhere";
  CHECK(failure_of(
          [&] { resolve_tls(missing, tls_role::client, dir.path + "/own"); })
        == "the TLS directory '" + dir.path
             + "/nowhere' has no ca.pem (caraway tls init DIR makes them)");
  CHECK_FALSE(fs::exists(dir.path + "/own"));
}

TEST_CASE("insecure-loopback leaves TLS off, and contradicting options fail") {
  temp_dir dir;
  caraway::config off;
  off.insecure_loopback = true;
  resolve_tls(off, tls_role::daemon, dir.tls);
  CHECK(off.tls_ca.empty());
  CHECK(off.tls_cert.empty());
  CHECK_FALSE(fs::exists(dir.tls));
  caraway::config both = off;
  both.tls_dir = dir.path;
  CHECK(failure_of([&] { resolve_tls(both, tls_role::daemon, dir.tls); })
        == "insecure-loopback turns TLS off, but TLS files are given as well");
  caraway::config files_and_dir;
  files_and_dir.tls_ca = dir.file("ca.pem");
  files_and_dir.tls_dir = dir.tls;
  CHECK(failure_of([&] {
          resolve_tls(files_and_dir, tls_role::client, dir.tls);
        }).find("both given")
        != std::string::npos);
  // Given files are used as they are.
  caraway::config given;
  given.tls_ca = "a";
  given.tls_cert = "b";
  given.tls_key = "c";
  resolve_tls(given, tls_role::client, dir.tls);
  CHECK(given.tls_cert == "b");
  CHECK_FALSE(fs::exists(dir.tls));
}
