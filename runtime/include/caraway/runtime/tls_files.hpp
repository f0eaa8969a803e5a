#pragma once

// The files of a cluster's mutual TLS: a CA of its own and certificates it
// signs, each used both as TLS server and as client.

#include <cstdint>
#include <string>
#include <vector>

namespace caraway::runtime::tls {

/// When a certificate is valid, in days.
struct validity {
  /// First day, from now: a day back by default, for clocks running late.
  int64_t not_before_days = -1;
  /// Length from `not_before_days`: {-10, 1} gives an expired certificate.
  int64_t days = 3650;
};

/// Makes a cluster CA, DIR/ca.pem and DIR/ca.key, and certificates signed by
/// it for nodes, DIR/node.pem and DIR/node.key, and for clients,
/// DIR/client.pem and DIR/client.key. Creates DIR (mode 0700) if missing.
/// Keys are unencrypted PKCS#8 PEM files of mode 0600. Each file appears
/// whole (written aside, then renamed). Throws `caraway::error` naming the
/// file when one exists already, unless `force`, or when one cannot be
/// written. Returns the paths written.
std::vector<std::string> init(const std::string& dir, const validity& v = {},
                              bool force = false);

/// Makes DIR/NAME.pem and DIR/NAME.key, signed by DIR/ca.pem and DIR/ca.key,
/// as `init` makes those of nodes. NAME is made of letters, digits, '.', '_'
/// and '-', at most 64, does not start with '.' and is not "ca"
/// (`caraway::invalid_argument_error` otherwise). Returns the paths written.
std::vector<std::string> issue(const std::string& dir, const std::string& name,
                               const validity& v = {}, bool force = false);

/// Whether the certificate in `cert_file` chains to a CA in `ca_file` (one
/// certificate or several, as while a cluster moves to a new CA) and is
/// valid now; if not, says why.
bool verify(const std::string& ca_file, const std::string& cert_file,
            std::string& why);

} // namespace caraway::runtime::tls
