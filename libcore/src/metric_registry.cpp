#include "metric_registry.hpp"

#include <algorithm>
#include <cmath>

#include "caraway/error.hpp"
#include "caraway/wire/names.hpp"

namespace caraway::detail {


metric_registry& metric_registry::instance() {
  static metric_registry registry;
  return registry;
}

size_t metric_registry::define(const std::string& name,
                               const std::string& help,
                               wire::metric_kind kind,
                               std::vector<double> bounds,
                               std::vector<std::string> tag_keys) {
  auto bad = [&](const std::string& why) {
    throw invalid_argument_error("metric " + name + ": " + why);
  };
  if (!wire::valid_metric_name(name))
    bad("not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, not starting with __)");
  for (auto& key : tag_keys) {
    if (!wire::valid_metric_name(key, /*label=*/true))
      bad("'" + key + "' is not a tag key ([a-zA-Z_][a-zA-Z0-9_]*)");
    if (key == "pid" || key == "le")
      bad("the tag key '" + key + "' is the node's to set");
  }
  auto sorted = tag_keys;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    bad("a tag key appears twice");
  if (kind == wire::metric_kind::histogram) {
    for (size_t i = 0; i < bounds.size(); ++i)
      if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
        bad("bucket boundaries must be finite and ascending");
  }
  std::lock_guard<std::mutex> guard{mtx_};
  for (size_t i = 0; i < families_.size(); ++i) {
    auto& f = families_[i];
    if (f.name != name)
      continue;
    if (f.kind != kind || f.keys != tag_keys || f.bounds != bounds)
      bad(std::string{"defined before as a "} + wire::name_of(f.kind)
          + " with other tags or buckets");
    return i;
  }
  families_.push_back({name, help, kind, std::move(bounds),
                       std::move(tag_keys), {}});
  return families_.size() - 1;
}

void metric_registry::record(size_t id, double value, const metrics::tags& t) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& f = families_.at(id);
  if (f.kind == wire::metric_kind::counter && !(value >= 0))
    throw invalid_argument_error("counter " + f.name
                                 + " only goes up: cannot add "
                                 + std::to_string(value));
  if (f.kind == wire::metric_kind::histogram && std::isnan(value))
    throw invalid_argument_error("histogram " + f.name
                                 + " cannot observe NaN");
  std::vector<std::string> values(f.keys.size());
  size_t matched = 0;
  for (size_t i = 0; i < f.keys.size(); ++i) {
    auto j = t.find(f.keys[i]);
    if (j != t.end()) {
      values[i] = j->second;
      ++matched;
    }
  }
  if (matched != t.size()) {
    std::string keys;
    for (auto& k : f.keys)
      keys += (keys.empty() ? "" : ", ") + k;
    throw invalid_argument_error("metric " + f.name + " has the tag keys {"
                                 + keys + "} only");
  }
  auto& s = f.by_tags[std::move(values)];
  switch (f.kind) {
    case wire::metric_kind::counter:
      s.value += value;
      break;
    case wire::metric_kind::gauge:
      s.value = value;
      break;
    default: {
      if (s.buckets.empty())
        s.buckets.resize(f.bounds.size() + 1);
      auto i = std::lower_bound(f.bounds.begin(), f.bounds.end(), value)
               - f.bounds.begin();
      s.buckets[static_cast<size_t>(i)] += 1;
      s.sum += value;
    }
  }
  version_.fetch_add(1, std::memory_order_relaxed);
}

wire::metric_sample metric_registry::counter_sample(
  const char* name, const char* help, uint64_t n,
  std::vector<std::pair<std::string, std::string>> labels) {
  wire::metric_sample x;
  x.name = name;
  x.help = help;
  x.kind = wire::metric_kind::counter;
  x.labels = std::move(labels);
  x.value = static_cast<double>(n);
  return x;
}

void metric_registry::add_pulls(const node::object_puller& puller,
                                std::vector<wire::metric_sample>& out) {
  out.push_back(counter_sample("caraway_object_store_pulled_objects_total",
                               "Objects copied in from other nodes.",
                               puller.pulled_objects()));
  out.push_back(counter_sample("caraway_object_store_pulled_bytes_total",
                               "Bytes of objects copied in from other nodes.",
                               puller.pulled_bytes()));
}

std::vector<wire::metric_sample> metric_registry::snapshot() const {
  std::vector<wire::metric_sample> result;
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& f : families_) {
    for (auto& [values, s] : f.by_tags) {
      wire::metric_sample x;
      x.name = f.name;
      x.help = f.help;
      x.kind = f.kind;
      for (size_t i = 0; i < f.keys.size(); ++i)
        x.labels.emplace_back(f.keys[i], values[i]);
      x.value = s.value;
      x.bounds = f.bounds;
      x.buckets = s.buckets;
      x.sum = s.sum;
      result.push_back(std::move(x));
    }
  }
  return result;
}

} // namespace caraway::detail

namespace caraway::metrics {

using detail::metric_registry;

counter::counter(std::string name, std::string description,
                 std::vector<std::string> tag_keys)
  : id_(metric_registry::instance().define(name, description,
                                           wire::metric_kind::counter, {},
                                           std::move(tag_keys))) {
}

void counter::inc(double value, const tags& t) const {
  metric_registry::instance().record(id_, value, t);
}

gauge::gauge(std::string name, std::string description,
             std::vector<std::string> tag_keys)
  : id_(metric_registry::instance().define(name, description,
                                           wire::metric_kind::gauge, {},
                                           std::move(tag_keys))) {
}

void gauge::set(double value, const tags& t) const {
  metric_registry::instance().record(id_, value, t);
}

histogram::histogram(std::string name, std::string description,
                     std::vector<double> boundaries,
                     std::vector<std::string> tag_keys)
  : id_(metric_registry::instance().define(
    name, description, wire::metric_kind::histogram, std::move(boundaries),
    std::move(tag_keys))) {
}

void histogram::observe(double value, const tags& t) const {
  metric_registry::instance().record(id_, value, t);
}

} // namespace caraway::metrics
