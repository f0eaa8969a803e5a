// The embedded cluster: head, node and driver in one actor system, with no
// network. The application's own threads are the driver: they use the
// node's core worker directly.

#include "process.hpp"

namespace caraway::runtime {

std::unique_ptr<process> start_embedded(const config& cfg) {
  return start_process([&](process& p) {
    node_options defaults;
    make_system(p, cfg, /*networked=*/false, defaults);
    make_owner_core(p, cfg, cfg.get_spin_us, /*task_events=*/false);
    p.embedded = true;
    add_head(p, nullptr);
    add_node(p, cfg, /*daemon=*/nullptr, /*started=*/nullptr);
  });
}

} // namespace caraway::runtime
