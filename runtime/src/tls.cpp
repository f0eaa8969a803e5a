#include "tls.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <caf/actor_system_config.hpp>
#include <caf/openssl/manager.hpp>

#include "caraway/error.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/runtime/tls_files.hpp"

namespace caraway::runtime {

namespace {

// Whether the key in `key_file` belongs to the certificate in `cert_file`:
// CAF would find out only at a peer's first handshake, and die of it.
bool key_matches(const std::string& cert_file, const std::string& key_file) {
  std::unique_ptr<FILE, int (*)(FILE*)> cf{std::fopen(cert_file.c_str(), "r"),
                                           &std::fclose};
  std::unique_ptr<FILE, int (*)(FILE*)> kf{std::fopen(key_file.c_str(), "r"),
                                           &std::fclose};
  if (!cf || !kf)
    return false;
  std::unique_ptr<X509, void (*)(X509*)> cert{
    PEM_read_X509(cf.get(), nullptr, nullptr, nullptr), &X509_free};
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key{
    PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free};
  return cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
}

std::string errno_text() {
  return std::strerror(errno);
}

// `path` is this user's and no one else may touch it: other users reaching
// the cluster's key could join it.
void require_private(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    throw invalid_argument_error("cannot check '" + path
                                 + "': " + errno_text());
  if (st.st_uid != ::geteuid())
    throw invalid_argument_error("'" + path
                                 + "' belongs to another user; the TLS "
                                   "files of this user's clusters must be "
                                   "its own");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    throw invalid_argument_error(
      "'" + path + "' has mode " + mode
      + ": other users could use the cluster's TLS files; chmod go-rwx it");
  }
}

// Takes `path` as an exclusive lock file for at most `bound`: a holder that
// froze must not hold up every process of the user forever.
class file_lock {
public:
  file_lock(const std::string& path, std::chrono::milliseconds bound) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0)
      throw invalid_argument_error("cannot open the lock file '" + path
                                   + "': " + errno_text());
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        auto why = errno_text();
        ::close(fd_);
        throw invalid_argument_error("cannot lock '" + path + "': " + why);
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::close(fd_);
        throw invalid_argument_error(
          "another process has held the lock file '" + path + "' for "
          + std::to_string(bound.count())
          + " ms: is one stopped while making the TLS files?");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  ~file_lock() {
    ::close(fd_);
  }

  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;

private:
  int fd_ = -1;
};

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Makes this user's own TLS directory if it has no CA yet, and checks that
// only the user can reach it.
void ensure_own_dir(const std::string& dir) {
  auto slash = dir.find_last_of('/');
  auto parent = slash == std::string::npos || slash == 0 ? std::string{"."}
                                                         : dir.substr(0, slash);
  if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST)
    throw invalid_argument_error(
      "cannot make '" + parent + "' for this user's TLS files: " + errno_text()
      + "; give TLS files, or --insecure-loopback "
        "on loopback");
  // The user's processes may start together: one makes the files, the
  // others wait for them.
  file_lock lock{dir + ".lock", std::chrono::seconds(10)};
  if (!exists(dir + "/ca.pem")) {
    try {
      tls::init(dir);
    } catch (const std::exception& e) {
      throw invalid_argument_error(
        std::string{"cannot make this user's TLS files: "} + e.what());
    }
  }
  require_private(dir);
  for (auto name : {"ca.key", "node.key", "client.key"})
    if (exists(dir + "/" + name))
      require_private(dir + "/" + name);
}

} // namespace

std::string default_tls_dir() {
  const char* home = std::getenv("HOME");
  std::string dir = home != nullptr ? home : "";
  if (dir.empty()) {
    if (auto* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_dir)
      dir = pw->pw_dir;
  }
  if (dir.empty())
    throw invalid_argument_error(
      "no home directory for this user's TLS files: give TLS files, or "
      "--insecure-loopback on loopback");
  return dir + "/.caraway/tls";
}

void resolve_tls(config& cfg, tls_role role, const std::string& own_dir) {
  bool files = !cfg.tls_ca.empty() || !cfg.tls_cert.empty()
               || !cfg.tls_key.empty();
  if (files && !cfg.tls_dir.empty())
    throw invalid_argument_error(
      "tls-dir and the TLS files (tls-ca, tls-cert, tls-key) both given: "
      "give one or the other");
  if (cfg.insecure_loopback && (files || !cfg.tls_dir.empty()))
    throw invalid_argument_error(
      "insecure-loopback turns TLS off, but TLS files are given as well");
  if (files || cfg.insecure_loopback)
    return;
  auto dir = cfg.tls_dir;
  if (dir.empty()) {
    dir = own_dir;
    ensure_own_dir(dir);
  }
  auto leaf = role == tls_role::daemon ? "node" : "client";
  for (auto name : {std::string{"ca.pem"}, std::string{leaf} + ".pem",
                    std::string{leaf} + ".key"})
    if (!exists(dir + "/" + name))
      throw invalid_argument_error("the TLS directory '" + dir + "' has no "
                                   + name
                                   + " (caraway tls init DIR makes them)");
  cfg.tls_ca = dir + "/ca.pem";
  cfg.tls_cert = dir + "/" + leaf + ".pem";
  cfg.tls_key = dir + "/" + leaf + ".key";
  cfg.tls_dir.clear();
}

bool tls_enabled(const config& cfg) {
  std::pair<const char*, const std::string*> files[] = {
    {"tls-ca", &cfg.tls_ca}, {"tls-cert", &cfg.tls_cert},
    {"tls-key", &cfg.tls_key}};
  std::string given;
  std::string missing;
  for (auto& [name, path] : files)
    (path->empty() ? missing : given) += (std::string{" "} + name);
  if (given.empty())
    return false;
  if (!missing.empty())
    throw invalid_argument_error("TLS needs tls-ca, tls-cert and tls-key; "
                                 "missing:"
                                 + missing);
  for (auto& [name, path] : files)
    if (!std::ifstream{*path})
      throw invalid_argument_error(std::string{"cannot read the "} + name
                                   + " file '" + *path + "'");
  std::string why;
  if (!tls::verify(cfg.tls_ca, cfg.tls_cert, why))
    throw invalid_argument_error("the certificate '" + cfg.tls_cert
                                 + "' is not valid for the CA '" + cfg.tls_ca
                                 + "': " + why);
  if (!key_matches(cfg.tls_cert, cfg.tls_key))
    throw invalid_argument_error("the key '" + cfg.tls_key
                                 + "' is not the key of the certificate '"
                                 + cfg.tls_cert + "'");
  return true;
}

bool configure_tls(caf::actor_system_config& sys_cfg, const config& cfg) {
  if (!tls_enabled(cfg))
    return false;
  sys_cfg.load<caf::openssl::manager>();
  sys_cfg.set("openssl.cafile", cfg.tls_ca);
  sys_cfg.set("openssl.certificate", cfg.tls_cert);
  sys_cfg.set("openssl.key", cfg.tls_key);
  return true;
}

bool is_loopback(const std::string& host) {
  auto loopback = [](const sockaddr* addr) {
    if (addr->sa_family == AF_INET) {
      auto ip = ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr);
      return (ip >> 24) == 127;
    }
    if (addr->sa_family == AF_INET6) {
      auto& ip = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
      return IN6_IS_ADDR_LOOPBACK(&ip) != 0;
    }
    return false;
  };
  // The wildcard addresses mean every interface.
  if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]")
    return false;
  auto name = host.size() > 2 && host.front() == '[' && host.back() == ']'
                ? host.substr(1, host.size() - 2)
                : host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &found) != 0
      || found == nullptr)
    return false;
  // A name is loopback only if every address it has is.
  bool result = true;
  for (auto* i = found; i != nullptr; i = i->ai_next)
    result = result && loopback(i->ai_addr);
  ::freeaddrinfo(found);
  return result;
}

void require_tls_off_loopback(bool tls, const std::string& host,
                              const std::string& what,
                              const std::string& options) {
  if (tls || is_loopback(host))
    return;
  throw invalid_argument_error(
    "refusing to " + what + " without TLS: anyone who reaches " + host
    + " could run code on the cluster. Give " + options
    + " (caraway tls init DIR makes them), or use 127.0.0.1 "
      "(insecure-loopback is for loopback only)");
}

} // namespace caraway::runtime
