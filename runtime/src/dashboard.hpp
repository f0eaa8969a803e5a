#pragma once

// The head's web dashboard (`--dashboard-port`): a page that shows the
// cluster's nodes, actors, jobs, tasks, objects and a timeline, refreshed
// live from a JSON API that answers as `caraway list|summary ... --format
// json` does. The page's files are compiled into the binary: no CDN.

#include <cstdint>
#include <memory>
#include <string>

#include "caraway/wire/interfaces.hpp"

namespace caraway::runtime {

class dashboard_server {
public:
  /// Serves on host:port (0: a free one), asking the gcs at most
  /// `timeout_ms` per question. Throws `caraway::error` if it cannot
  /// listen.
  dashboard_server(caf::actor_system& sys, wire::gcs_actor gcs,
                   const std::string& host, uint16_t port, uint32_t timeout_ms);
  ~dashboard_server();

  dashboard_server(const dashboard_server&) = delete;
  dashboard_server& operator=(const dashboard_server&) = delete;

  uint16_t port() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace caraway::runtime
