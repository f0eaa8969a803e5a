#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>

#include <caf/fwd.hpp>

#include "caraway/config.hpp"
#include "caraway/wire/address.hpp"
#include "caraway/wire/interfaces.hpp"

namespace caraway::runtime {

/// Turns on mutual TLS in `sys_cfg` (which must load the middleman) when
/// `cfg` names TLS files: every connection the actor system makes or
/// accepts then shows this process' certificate and accepts only peers
/// whose certificate the CA signed. Returns whether it did; throws
/// `invalid_argument_error` when the files are incomplete, unreadable or do
/// not fit together.
bool configure_tls(caf::actor_system_config& sys_cfg, const config& cfg);

/// How long a TLS handshake may take before its connection is closed
/// (process-wide; 10 s unless set): a peer that never answers must not hold
/// a connection, nor the network thread, forever.
void set_tls_handshake_timeout(std::chrono::milliseconds timeout);

/// Why the latest TLS handshake with a peer on `port` failed, in words
/// (empty if none did since the last call); takes it.
std::string tls_failure(uint16_t port);

/// Which certificate of a TLS directory a process shows: a daemon the
/// node's (DIR/node.pem), a driver or the CLI the client's (DIR/client.pem).
enum class tls_role { daemon, client };

/// This user's own TLS directory, for clusters on loopback whose processes
/// are given no TLS files: $HOME/.caraway/tls.
std::string default_tls_dir();

/// Settles which TLS files `cfg` uses: the three files when given; else
/// those of `role` in `cfg.tls_dir`; none with `cfg.insecure_loopback`;
/// else those in `own_dir` (default: `default_tls_dir()`), which is made
/// with a CA of its own on first use, under a lock shared by the user's
/// processes. Throws `invalid_argument_error` when the options contradict
/// each other, a directory lacks a file, or the own directory or a key in it
/// can be reached by other users.
void resolve_tls(config& cfg, tls_role role,
                 const std::string& own_dir = default_tls_dir());

/// Whether `host` (a name or an address, without port) is this machine's
/// loopback: a name only if all its addresses are.
bool is_loopback(const std::string& host);

/// Throws `invalid_argument_error` when `host` is not loopback and `tls`
/// is off: `what` says what the process was to do there, e.g. "listen on
/// 10.0.0.5", and `options` how TLS files are given to it.
void require_tls_off_loopback(bool tls, const std::string& host,
                              const std::string& what,
                              const std::string& options);

/// How a daemon and a driver are given their TLS files.
constexpr const char* daemon_tls_options
  = "--tls-dir, or --tls-ca, --tls-cert and --tls-key";
constexpr const char* driver_tls_options
  = "--caraway-tls-dir, or --caraway-tls-ca, --caraway-tls-cert and "
    "--caraway-tls-key";

/// Connects to the gcs a head publishes at host:port. Never hangs: gives up
/// after `timeout`. Fails with a message naming the address when nothing
/// listens there, when the peer does not speak CAF, or when it publishes
/// something other than a caraway gcs. Needs the middleman loaded.
/// With `retry`, failed attempts repeat until `timeout` has passed: a head
/// that starts a moment later, or a handshake cut short by CAF's connection
/// timer, still gets its chance.
caf::expected<wire::gcs_actor> connect_gcs(caf::actor_system& sys,
                                     const std::string& host, uint16_t port,
                                     std::chrono::milliseconds timeout,
                                     bool retry = false);

/// Connects to the raylet a worker node publishes at host:port, failing as
/// `connect_gcs` does (once, within `timeout`).
caf::expected<wire::raylet_actor>
connect_raylet(caf::actor_system& sys, const std::string& host, uint16_t port,
               std::chrono::milliseconds timeout);

/// What a middleman's connect answered, as a gcs handle: fails naming
/// `where` (host:port) when nothing is published there or it is not a gcs.
caf::expected<wire::gcs_actor> as_gcs(caf::actor_system& sys,
                                      const std::string& where,
                                      caf::strong_actor_ptr ptr,
                                      const std::set<std::string>& ifs);

} // namespace caraway::runtime
