#pragma once

// The actor that opens connections to other processes: TLS when this
// process has its TLS module loaded (the cluster runs with TLS), else plain.

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

namespace caraway::core {

inline caf::io::middleman_actor dialer(caf::actor_system& sys) {
  if (sys.has_openssl_manager())
    return sys.openssl_manager().actor_handle();
  return sys.middleman().actor_handle();
}

} // namespace caraway::core
