// The embedded cluster: head, node and driver in one actor system, with no
// network. The application's own threads are the driver: they use the
// node's core worker directly.

#include "caraway/log.hpp"
#include "process.hpp"

namespace caraway::runtime {

std::unique_ptr<process> start_embedded(const config& cfg) {
  return start_process([&](process& p) {
    node_options defaults;
    make_system(p, cfg, /*networked=*/false, defaults);
    // Task events cost an embedded cluster 15-20% of its task rate: kept
    // only when a dashboard can show them.
    bool dashboard = cfg.dashboard_port >= 0;
    make_owner_core(p, cfg, cfg.get_spin_us,
                    /*task_events=*/dashboard && cfg.task_events);
    p.embedded = true;
    add_head(p, nullptr);
    add_node(p, cfg, /*daemon=*/nullptr, /*started=*/nullptr);
    if (dashboard) {
      // On loopback only: nothing else of an embedded cluster listens.
      p.dashboard = std::make_unique<dashboard_server>(
        *p.sys, p.gcs, "127.0.0.1", static_cast<uint16_t>(cfg.dashboard_port),
        5000);
      CARAWAY_LOG(info, runtime)
        << "serving the dashboard"
        << log::kv("url", "http://127.0.0.1:"
                            + std::to_string(p.dashboard->port()) + "/");
    }
  });
}

} // namespace caraway::runtime
