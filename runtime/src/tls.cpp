#include "tls.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstdio>
#include <fstream>
#include <memory>

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

} // namespace

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
    + " (caraway tls init DIR makes them), or use 127.0.0.1");
}

} // namespace caraway::runtime
