#include "metrics.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <caf/all.hpp>

#include "caraway/log.hpp"
#include "caraway/wire/names.hpp"
#include "http_service.hpp"

namespace caraway::runtime {

namespace {

// A label value, escaped as the text format wants.
std::string quoted(const std::string& x) {
  std::string result = "\"";
  for (auto c : x) {
    if (c == '\\' || c == '"')
      result += '\\';
    if (c == '\n') {
      result += "\\n";
      continue;
    }
    result += c;
  }
  return result + '"';
}

// Help text as the text format wants it: backslashes and newlines escaped.
std::string escaped_help(const std::string& x) {
  std::string result;
  for (auto c : x) {
    if (c == '\\')
      result += "\\\\";
    else if (c == '\n')
      result += "\\n";
    else
      result += c;
  }
  return result;
}

class writer {
public:
  void family(const std::string& name, const std::string& help,
              const char* type = "gauge") {
    families_.insert(name);
    out_ << "# HELP " << name << ' ' << escaped_help(help) << "\n# TYPE "
         << name << ' ' << type << '\n';
  }

  bool has_family(const std::string& name) const {
    return families_.count(name) > 0;
  }

  void sample(const std::string& name,
              const std::vector<std::pair<std::string, std::string>>& labels,
              double value) {
    out_ << name;
    if (!labels.empty()) {
      out_ << '{';
      for (size_t i = 0; i < labels.size(); ++i)
        out_ << (i > 0 ? "," : "") << labels[i].first << '='
             << quoted(labels[i].second);
      out_ << '}';
    }
    // Counts and bytes exactly; fractions of resources as they are.
    char buf[32];
    if (value == std::floor(value) && std::fabs(value) < 9e15)
      std::snprintf(buf, sizeof(buf), "%.0f", value);
    else
      std::snprintf(buf, sizeof(buf), "%.17g", value);
    out_ << ' ' << buf << '\n';
  }

  std::string str() const {
    return out_.str();
  }

private:
  std::ostringstream out_;
  std::set<std::string> families_;
};

std::string bound_text(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

// Processes' samples, a family per name (its first sample's kind and help;
// later ones of another kind, names the node's own metrics use, and names
// or labels Prometheus does not take are left out).
void write_samples(writer& w, const std::vector<wire::metric_sample>& xs) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const wire::metric_sample*>> by_name;
  for (auto& x : xs) {
    if (!wire::valid_metric_name(x.name) || w.has_family(x.name))
      continue;
    bool labels_ok = true;
    for (auto& [key, value] : x.labels)
      labels_ok = labels_ok && wire::valid_metric_name(key, true) && key != "le";
    if (!labels_ok)
      continue;
    auto& members = by_name[x.name];
    if (members.empty())
      order.push_back(x.name);
    else if (members.front()->kind != x.kind)
      continue;
    members.push_back(&x);
  }
  for (auto& name : order) {
    auto& members = by_name[name];
    auto kind = members.front()->kind;
    w.family(name, members.front()->help, wire::name_of(kind));
    for (auto* x : members) {
      if (kind != wire::metric_kind::histogram) {
        w.sample(name, x->labels, x->value);
        continue;
      }
      // Buckets count cumulatively, up to +Inf.
      uint64_t total = 0;
      auto labels = x->labels;
      labels.emplace_back("le", "");
      for (size_t i = 0; i < x->buckets.size(); ++i) {
        total += x->buckets[i];
        labels.back().second
          = i < x->bounds.size() ? bound_text(x->bounds[i]) : "+Inf";
        w.sample(name + "_bucket", labels, static_cast<double>(total));
      }
      w.sample(name + "_sum", x->labels, x->sum);
      w.sample(name + "_count", x->labels, static_cast<double>(total));
    }
  }
}

template <class T, class F>
void count_by(writer& w, const std::string& name, const std::string& help,
              const std::vector<T>& xs, F state_of,
              const std::vector<std::string>& states) {
  std::map<std::string, double> counts;
  for (auto& state : states)
    counts[state] = 0;
  for (auto& x : xs)
    counts[state_of(x)] += 1;
  w.family(name, help);
  for (auto& [state, n] : counts)
    w.sample(name, {{"state", state}}, n);
}

} // namespace

std::string render_metrics(const wire::node_info& node,
                           const std::optional<cluster_view>& cluster,
                           const std::vector<wire::metric_sample>& processes) {
  writer w;
  auto id = wire::to_string(node.id);
  auto resources = [&](const std::string& name, const std::string& help,
                       const wire::resource_set& xs) {
    w.family(name, help);
    for (auto& [resource, amount] : xs)
      if (!wire::of_bundle(resource))
        w.sample(name, {{"node", id}, {"resource", resource}}, amount);
  };
  resources("caraway_node_resources_total", "Resources of this node.",
            node.total);
  resources("caraway_node_resources_available",
            "Resources of this node not in use.", node.available);
  w.family("caraway_node_pending_tasks",
           "Tasks and actors waiting for this node's resources.");
  w.sample("caraway_node_pending_tasks", {{"node", id}},
           static_cast<double>(node.pending_tasks));
  w.family("caraway_object_store_used_bytes",
           "Bytes in this node's object store.");
  w.sample("caraway_object_store_used_bytes", {{"node", id}},
           static_cast<double>(node.object_store_used));
  w.family("caraway_object_store_capacity_bytes",
           "Capacity of this node's object store.");
  w.sample("caraway_object_store_capacity_bytes", {{"node", id}},
           static_cast<double>(node.object_store_capacity));
  if (!cluster) {
    write_samples(w, processes);
    return w.str();
  }
  count_by(
    w, "caraway_cluster_nodes", "Nodes the head knows, by state.",
    cluster->nodes,
    [](const wire::node_info& x) -> std::string {
      return x.alive ? "ALIVE" : "DEAD";
    },
    {"ALIVE", "DEAD"});
  auto by_state = [](const auto& x) -> std::string {
    return wire::name_of(x.state);
  };
  count_by(w, "caraway_actors", "Actors by state.", cluster->actors, by_state,
           {"PENDING", "ALIVE", "RESTARTING", "DEAD"});
  count_by(w, "caraway_tasks",
           "Tasks in the head's task table (the latest --task-table-size), "
           "by state.",
           cluster->tasks, by_state,
           {"PENDING", "SCHEDULED", "RUNNING", "FINISHED", "FAILED"});
  count_by(w, "caraway_placement_groups", "Placement groups by state.",
           cluster->groups, by_state,
           {"PENDING", "CREATED", "REMOVED", "RESCHEDULING"});
  write_samples(w, processes);
  return w.str();
}

struct metrics_server::impl {
  caf::actor_system& sys;
  wire::raylet_actor raylet;
  wire::gcs_actor gcs;
  std::chrono::milliseconds timeout;
  std::function<std::vector<wire::metric_sample>()> local;
  http_service http;

  impl(caf::actor_system& sys, wire::raylet_actor raylet, wire::gcs_actor gcs,
       const std::string& host, uint16_t port, uint32_t timeout_ms,
       std::function<std::vector<wire::metric_sample>()> local)
    : sys(sys),
      raylet(std::move(raylet)),
      gcs(std::move(gcs)),
      timeout(timeout_ms),
      local(std::move(local)),
      http("metrics", host, port) {
    // nop
  }

  // One scrape: false if the raylet (or gcs) did not answer in time.
  bool scrape(std::string& text) {
    caf::scoped_actor self{sys};
    wire::node_info node;
    if (!ask(self, raylet, timeout, node, wire::status_atom::value))
      return false;
    // What this process and the ones on or using this node recorded.
    auto processes = local ? local() : std::vector<wire::metric_sample>{};
    std::vector<wire::metric_sample> others;
    if (!ask(self, raylet, timeout, others, wire::metrics_atom::value))
      return false;
    processes.insert(processes.end(), std::make_move_iterator(others.begin()),
                     std::make_move_iterator(others.end()));
    std::optional<cluster_view> cluster;
    if (gcs) {
      cluster.emplace();
      if (!ask(self, gcs, timeout, cluster->nodes, wire::nodes_atom::value)
          || !ask(self, gcs, timeout, cluster->actors, wire::actors_atom::value)
          || !ask(self, gcs, timeout, cluster->tasks, wire::tasks_atom::value)
          || !ask(self, gcs, timeout, cluster->groups, wire::group_atom::value))
        return false;
    }
    text = render_metrics(node, cluster, processes);
    return true;
  }
};

metrics_server::metrics_server(
  caf::actor_system& sys, wire::raylet_actor raylet, wire::gcs_actor gcs,
  const std::string& host, uint16_t port, uint32_t timeout_ms,
  std::function<std::vector<wire::metric_sample>()> local)
  : impl_(std::make_unique<impl>(sys, std::move(raylet), std::move(gcs), host,
                                 port, timeout_ms, std::move(local))) {
  auto* state = impl_.get();
  state->http.server().Get("/metrics", [state](const httplib::Request&,
                                               httplib::Response& res) {
    std::string text;
    if (!state->scrape(text)) {
      res.status = 503;
      res.set_content("the node did not answer in time\n", "text/plain");
      return;
    }
    res.set_content(text, "text/plain; version=0.0.4");
  });
  state->http.start();
}

metrics_server::~metrics_server() = default;

uint16_t metrics_server::port() const {
  return impl_->http.port();
}

} // namespace caraway::runtime
