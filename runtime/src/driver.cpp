// The driver role: a process of the user's that joins a running cluster,
// announces its job and libraries and submits to the raylet the gcs names.
// It runs no raylet of its own.

#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/runtime/libraries.hpp"
#include "gcs_client.hpp"
#include "process.hpp"

namespace caraway::runtime {

void connect_head(process& p, const std::string& address, uint32_t timeout_ms,
                  uint32_t reconnect_ms, bool driver) {
  std::string host;
  uint16_t port = 0;
  std::string why;
  if (!wire::split_address(address, host, port, why))
    throw invalid_argument_error("invalid head address: " + why);
  auto gcs = connect_gcs(*p.sys, host, port,
                         std::chrono::milliseconds(timeout_ms),
                         /*retry=*/true);
  if (!gcs)
    throw error(render(*p.sys, gcs.error()));
  gcs_client_config cfg;
  cfg.host = host;
  cfg.port = port;
  cfg.reconnect_timeout = std::chrono::milliseconds(reconnect_ms);
  if (driver) {
    cfg.answer_when_lost = true;
    std::weak_ptr<owner::core_worker> weak = p.core;
    cfg.driver_rejoined = [weak](wire::raylet_actor raylet,
                                 wire::unique_id node) {
      if (auto core = weak.lock())
        core->switch_raylet(std::move(raylet), node);
    };
  }
  // The process' link to the head, which outlives the head's restarts.
  p.gcs = spawn_gcs_client(*p.sys, std::move(*gcs), std::move(cfg));
  p.owns_gcs = true;
}

void add_driver(process& p, const config& cfg) {
  auto& sys = *p.sys;
  std::string failure;
  wire::unique_id raylet_node;
  spawn_owner(p, cfg, std::string{});
  auto libraries = job_libraries(cfg);
  for (auto& path : libraries)
    CARAWAY_LOG(info, runtime) << "announcing library" << log::kv("path", path);
  owner::with_scoped_actor(sys, [&](caf::scoped_actor& self) {
    // The gcs answers once the nodes loaded the libraries: a request, not a
    // connection attempt, hence the request timeout.
    self
      ->request(p.gcs, std::chrono::milliseconds(cfg.request_timeout_ms),
                wire::job_atom::value, "driver pid " + std::to_string(getpid()),
                p.owner, std::move(libraries))
      .receive(
        [&](uint64_t job, wire::raylet_actor& raylet, wire::unique_id& node) {
          CARAWAY_LOG(info, runtime)
            << "joined the cluster" << log::kv("job", job)
            << log::kv("submits_to", wire::to_string(node));
          p.raylet = std::move(raylet);
          raylet_node = node;
        },
        [&](caf::error& err) { failure = render(sys, err); });
  });
  if (!p.raylet)
    throw error("cannot join the cluster at " + cfg.address + ": " + failure);
  p.owns_raylet = false;
  p.core->connect({p.gcs, p.raylet, p.owner, p.store, p.store_actor, p.puller,
                   p.data_address, raylet_node});
  caf::anon_send(p.gcs, wire::subscribe_atom::value, p.owner);
}

std::unique_ptr<process> start_cluster_driver(const config& cfg) {
  return start_process([&](process& p) {
    node_options defaults;
    make_system(p, cfg, /*networked=*/true, defaults);
    // A cluster's driver waits for results from other processes: its get
    // spins long enough to cover a remote round trip.
    make_owner_core(p, cfg, cfg.cluster_get_spin_us);
    connect_head(p, cfg.address, cfg.connect_timeout_ms,
                 cfg.head_reconnect_timeout_ms, /*driver=*/true);
    // Serves on the address that routes to the head.
    std::string head_host;
    uint16_t head_port = 0;
    std::string why;
    wire::split_address(cfg.address, head_host, head_port, why);
    start_data_path(p, cfg, cfg.host, cfg.data_port, head_host);
    add_driver(p, cfg);
  });
}

} // namespace caraway::runtime
