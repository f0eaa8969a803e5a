#pragma once

// A process' link to the gcs of the cluster it joined. The components of the
// process hold this actor as their gcs; it forwards every message to the
// head unchanged (sender and request id kept, so answers go straight back).
//
// When the head goes away (its process died, or the connection broke) the
// process serves on: the link holds messages for the gcs, tries to reach the
// head again until the reconnect timeout, then has the process taken back
// (a node rejoins under its id, a driver rejoins its job), announces again
// what the process announced (its owner, subscriptions, live actor hosts)
// and forwards what it held. If the head does not come back in time, or
// does not take the process back (it declared the node dead meanwhile), the
// link fails what it held with `errc::fenced` or `errc::head_unavailable`
// and stops, so that whoever watches it (the raylet) stops too; a driver's
// link stays and fails every later request the same way.
// A head that stopped on request (`caraway stop`, SIGTERM) is not waited
// for: the link stops with it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/fwd.hpp>

#include "caraway/wire/interfaces.hpp"

namespace caraway::runtime {

struct gcs_client_config {
  /// Where the head listens.
  std::string host;
  uint16_t port = 0;
  /// How long to try to reach the head again after losing it.
  std::chrono::milliseconds reconnect_timeout{30000};
  /// A driver: the raylet (and its node) to submit to after rejoining its
  /// job, which may differ from the one before.
  std::function<void(wire::raylet_actor, wire::unique_id)> driver_rejoined;
  /// A driver's link outlives a head that is gone for good: it answers
  /// every later request with the error that says why, where a worker's
  /// link stops (and takes its node along).
  bool answer_when_lost = false;
};

/// Spawns the link to `upstream`, a gcs reached at cfg.host:cfg.port. A
/// null `upstream` is a head not reached yet: the link starts as if it had
/// just lost it.
wire::gcs_actor spawn_gcs_client(caf::actor_system& sys,
                                 wire::gcs_actor upstream,
                                 gcs_client_config cfg);

} // namespace caraway::runtime
