// What a daemon's /metrics shows, in Prometheus' text format.

#include <doctest/doctest.h>

#include <cmath>

#include "caraway/error.hpp"
#include "caraway/metrics.hpp"
#include "metric_registry.hpp"
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

TEST_CASE("user metrics record counters, gauges and histograms by tags") {
  // The registry is the process'; names here are this test's own.
  metrics::counter items{"unit_items_total", "items done", {"kind"}};
  metrics::gauge depth{"unit_depth", "queue depth"};
  metrics::histogram wait{"unit_wait_seconds", "waits", {0.1, 1}};
  items.inc(2, {{"kind", "fruit"}});
  items.inc(1, {{"kind", "fruit"}});
  items.inc();
  depth.set(5);
  depth.set(3);
  for (double x : {0.05, 0.1, 0.5, 7.0})
    wait.observe(x);
  // The same definition again is the same metric.
  metrics::counter again{"unit_items_total", "items done", {"kind"}};
  again.inc(4, {{"kind", "fruit"}});
  auto samples = detail::metric_registry::instance().snapshot();
  auto find = [&](const std::string& name,
                  const std::string& kind) -> const wire::metric_sample* {
    for (auto& x : samples)
      if (x.name == name
          && (x.labels.empty() ? kind.empty() : x.labels[0].second == kind))
        return &x;
    return nullptr;
  };
  auto fruit = find("unit_items_total", "fruit");
  REQUIRE(fruit != nullptr);
  CHECK(fruit->kind == wire::metric_kind::counter);
  CHECK(fruit->value == 7);
  // A tag left out is empty.
  auto untagged = find("unit_items_total", "");
  REQUIRE(untagged != nullptr);
  CHECK(untagged->value == 1);
  auto gauge = find("unit_depth", "");
  REQUIRE(gauge != nullptr);
  CHECK(gauge->value == 3);
  auto hist = find("unit_wait_seconds", "");
  REQUIRE(hist != nullptr);
  // 0.1 falls in the bucket bounded by 0.1 (bounds are inclusive).
  CHECK(hist->buckets == std::vector<uint64_t>{2, 1, 1});
  CHECK(hist->sum == doctest::Approx(7.65));
  auto before = detail::metric_registry::instance().version();
  depth.set(1);
  CHECK(detail::metric_registry::instance().version() != before);
}

TEST_CASE("user metrics refuse what Prometheus would not take") {
  CHECK_THROWS_AS(metrics::counter("bad-name", ""), invalid_argument_error);
  CHECK_THROWS_AS(metrics::counter("__reserved", ""), invalid_argument_error);
  CHECK_THROWS_AS(metrics::gauge("unit_tagged", "", {"pid"}),
                  invalid_argument_error);
  CHECK_THROWS_AS(metrics::gauge("unit_tagged", "", {"a", "a"}),
                  invalid_argument_error);
  CHECK_THROWS_AS(metrics::histogram("unit_h", "", {1, 0.5}),
                  invalid_argument_error);
  metrics::counter c{"unit_refusing_total", "", {"kind"}};
  CHECK_THROWS_AS(c.inc(-1), invalid_argument_error);
  CHECK_THROWS_AS(c.inc(1, {{"color", "red"}}), invalid_argument_error);
  // A name is one kind with one set of tags.
  CHECK_THROWS_AS(metrics::gauge("unit_refusing_total", ""),
                  invalid_argument_error);
  CHECK_THROWS_AS(metrics::counter("unit_refusing_total", "", {"other"}),
                  invalid_argument_error);
  metrics::histogram h{"unit_nan_seconds", "", {1}};
  CHECK_THROWS_AS(h.observe(std::nan("")), invalid_argument_error);
}

TEST_CASE("metrics show processes' samples as families, histograms "
          "cumulative") {
  wire::node_info node;
  node.id = {1, 2};
  std::vector<wire::metric_sample> xs(5);
  xs[0].name = "app_items_total";
  xs[0].help = "items\ndone";
  xs[0].kind = wire::metric_kind::counter;
  xs[0].labels = {{"kind", "fruit"}, {"pid", "10"}};
  xs[0].value = 3;
  xs[1] = xs[0];
  xs[1].labels = {{"kind", "fruit"}, {"pid", "11"}};
  xs[1].value = 4;
  xs[2].name = "app_wait_seconds";
  xs[2].kind = wire::metric_kind::histogram;
  xs[2].labels = {{"pid", "10"}};
  xs[2].bounds = {0.5, 2};
  xs[2].buckets = {1, 0, 2};
  xs[2].sum = 9.25;
  // A gauge of a counter's name, a node metric's name and a bad label go.
  xs[3].name = "app_items_total";
  xs[3].kind = wire::metric_kind::gauge;
  xs[4].name = "caraway_node_pending_tasks";
  auto text = runtime::render_metrics(node, std::nullopt, xs);
  CHECK(text.find("# HELP app_items_total items\\ndone\n"
                  "# TYPE app_items_total counter\n"
                  "app_items_total{kind=\"fruit\",pid=\"10\"} 3\n"
                  "app_items_total{kind=\"fruit\",pid=\"11\"} 4\n")
        != std::string::npos);
  CHECK(text.find("# TYPE app_wait_seconds histogram\n"
                  "app_wait_seconds_bucket{pid=\"10\",le=\"0.5\"} 1\n"
                  "app_wait_seconds_bucket{pid=\"10\",le=\"2\"} 1\n"
                  "app_wait_seconds_bucket{pid=\"10\",le=\"+Inf\"} 3\n"
                  "app_wait_seconds_sum{pid=\"10\"} 9.25\n"
                  "app_wait_seconds_count{pid=\"10\"} 3\n")
        != std::string::npos);
  CHECK(text.find("# TYPE app_items_total gauge") == std::string::npos);
  CHECK(text.find("# TYPE caraway_node_pending_tasks gauge")
        == text.rfind("# TYPE caraway_node_pending_tasks gauge"));
}
