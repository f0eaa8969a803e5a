#pragma once

// Mutual TLS on the cluster's connections (CAF's openssl module): which
// processes use it, and listening with it.

#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/publish.hpp>

#include "caraway/config.hpp"
#include "caraway/runtime/connect.hpp"

namespace caraway::runtime {

/// Whether `cfg` turns TLS on. Throws `invalid_argument_error` when only
/// some of its three files are given, one cannot be read, or the
/// certificate is not signed by the CA or not valid now.
bool tls_enabled(const config& cfg);

/// Publishes `handle` on host:port (0: any free port), with TLS when this
/// process has its TLS module loaded; returns the port.
template <class Handle>
caf::expected<uint16_t> listen(caf::actor_system& sys, const Handle& handle,
                               uint16_t port, const std::string& host) {
  // Address reuse: a process restarted on the same port listens at once,
  // not after TIME_WAIT.
  if (sys.has_openssl_manager())
    return caf::openssl::publish(handle, port, host.c_str(), true);
  return sys.middleman().publish(handle, port, host.c_str(), true);
}

} // namespace caraway::runtime
