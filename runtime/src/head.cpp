// The head role: the gcs, the cluster's directory. A head daemon also runs a
// node (node.cpp); the embedded cluster runs it with a node and a driver.

#include <caf/all.hpp>

#include "caraway/node/gcs.hpp"
#include "process.hpp"

namespace caraway::runtime {

void add_head(process& p) {
  p.gcs = p.sys->spawn(node::gcs);
  p.owns_gcs = true;
}

} // namespace caraway::runtime
