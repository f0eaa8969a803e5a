// What a daemon's /metrics shows, in Prometheus' text format.

#include <doctest/doctest.h>

#include "metrics.hpp"

using namespace caraway;

TEST_CASE("metrics show the node, and on the head the cluster by state") {
  wire::node_info node;
  node.id = {1, 2};
  node.total = {{"CPU", 4}, {"CPU_group_abc", 1}, {"ssd", 0.5}};
  node.available = {{"CPU", 3}};
  node.pending_tasks = 7;
  node.object_store_capacity = 8'000'000'123;
  auto id = wire::to_string(node.id);
  auto text = runtime::render_metrics(node, std::nullopt);
  CHECK(text.find("# TYPE caraway_node_resources_total gauge\n")
        != std::string::npos);
  CHECK(text.find("caraway_node_resources_total{node=\"" + id
                  + "\",resource=\"CPU\"} 4\n")
        != std::string::npos);
  CHECK(text.find("resource=\"ssd\"} 0.5\n") != std::string::npos);
  CHECK(text.find("_group_") == std::string::npos); // bundles hidden
  CHECK(text.find("caraway_node_pending_tasks{node=\"" + id + "\"} 7\n")
        != std::string::npos);
  CHECK(text.find("caraway_object_store_capacity_bytes{node=\"" + id
                  + "\"} 8000000123\n")
        != std::string::npos);
  CHECK(text.find("caraway_cluster_nodes") == std::string::npos);
  runtime::cluster_view cluster;
  cluster.nodes = {node, node};
  cluster.nodes[1].alive = false;
  cluster.tasks.resize(3);
  cluster.tasks[0].state = wire::task_state::failed;
  text = runtime::render_metrics(node, cluster);
  CHECK(text.find("caraway_cluster_nodes{state=\"ALIVE\"} 1\n")
        != std::string::npos);
  CHECK(text.find("caraway_cluster_nodes{state=\"DEAD\"} 1\n")
        != std::string::npos);
  CHECK(text.find("caraway_tasks{state=\"PENDING\"} 2\n") != std::string::npos);
  CHECK(text.find("caraway_tasks{state=\"FAILED\"} 1\n") != std::string::npos);
  // Every state shows, counted or not.
  CHECK(text.find("caraway_actors{state=\"RESTARTING\"} 0\n")
        != std::string::npos);
  CHECK(text.find("caraway_placement_groups{state=\"CREATED\"} 0\n")
        != std::string::npos);
}
