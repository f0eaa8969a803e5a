#pragma once

// Mutual TLS on the object data path. The control connections get theirs
// from CAF's openssl module; this path is plain sockets, so it uses OpenSSL
// directly, with the same CA, certificate and key.

#include <memory>
#include <string>

namespace caraway::node::data {

/// An OpenSSL context that requires a peer certificate signed by the CA,
/// on both ends of a connection. Immutable once made; shared by threads.
class tls_context;

using tls_context_ptr = std::shared_ptr<const tls_context>;

/// Loads the CA, certificate and key files; null with `why` when one
/// cannot be read or the key is not the certificate's.
tls_context_ptr make_tls_context(const std::string& ca_file,
                                 const std::string& cert_file,
                                 const std::string& key_file, std::string& why);

} // namespace caraway::node::data
