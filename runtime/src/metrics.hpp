#pragma once

// A daemon's Prometheus endpoint (`--metrics-port`): its node's resources,
// queue and object store, and on the head the cluster's nodes, actors,
// tasks and placement groups by state.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caraway/wire/interfaces.hpp"

namespace caraway::runtime {

/// What the head adds to its node's metrics.
struct cluster_view {
  std::vector<wire::node_info> nodes;
  std::vector<wire::actor_info> actors;
  std::vector<wire::task_info> tasks;
  std::vector<wire::placement_group_info> groups;
};

/// The metrics in Prometheus' text format (version 0.0.4): the node's, the
/// cluster's if given, then what processes recorded (a family per name).
std::string render_metrics(const wire::node_info& node,
                           const std::optional<cluster_view>& cluster,
                           const std::vector<wire::metric_sample>& processes
                           = {});

/// Serves GET /metrics on host:port from a thread of its own, asking the
/// raylet (and the gcs, if given) for each scrape, at most `timeout_ms`
/// each, and adding what `local` returns (this process' own samples).
/// Throws `caraway::error` if it cannot listen.
class metrics_server {
public:
  metrics_server(caf::actor_system& sys, wire::raylet_actor raylet,
                 wire::gcs_actor gcs, const std::string& host, uint16_t port,
                 uint32_t timeout_ms,
                 std::function<std::vector<wire::metric_sample>()> local
                 = nullptr);
  ~metrics_server();

  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  uint16_t port() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace caraway::runtime
