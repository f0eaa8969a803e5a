#pragma once

// Mutual TLS on the object data path. The control connections get theirs
// from CAF's openssl module; this path is plain sockets, so it uses OpenSSL
// directly, with the same CA, certificate and key.

#include <memory>
#include <string>

struct bio_st;

namespace caraway::node::data {

/// An OpenSSL BIO on the socket `fd` (which it does not close) that sends
/// with MSG_NOSIGNAL: OpenSSL's own writes with write(2), and a peer that
/// went away would raise SIGPIPE, which kills a process by default. Marks
/// a would-block as retryable, for non-blocking sockets.
bio_st* make_socket_bio(int fd);

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
