// The head role: the gcs, the cluster's directory. A head daemon also runs a
// node (node.cpp); the embedded cluster runs it with a node and a driver.

#include <caf/all.hpp>

#include "caraway/error.hpp"
#include "caraway/node/gcs.hpp"
#include "caraway/node/gcs_store.hpp"
#include "process.hpp"

namespace caraway::runtime {

void add_head(process& p, const node_options* daemon) {
  node::gcs_config cfg;
  if (daemon != nullptr) {
    cfg.view_period = std::chrono::milliseconds(daemon->view_period_ms);
    cfg.task_table_size = daemon->task_table_size;
  }
  if (daemon != nullptr && !daemon->data_dir.empty()) {
    try {
      cfg.store = std::make_shared<node::gcs_store>(daemon->data_dir);
    } catch (const std::runtime_error& e) {
      throw error(std::string{"cannot keep the cluster's tables: "}
                  + e.what());
    }
    cfg.rejoin_timeout = std::chrono::milliseconds(daemon->rejoin_timeout_ms);
  }
  p.gcs = p.sys->spawn(node::gcs, std::move(cfg));
  p.owns_gcs = true;
}

} // namespace caraway::runtime
