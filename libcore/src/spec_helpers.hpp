#pragma once

// Small pieces of building task specs.

#include "caraway/detail/core.hpp"
#include "caraway/error.hpp"
#include "caraway/wire/records.hpp"

namespace caraway::core {

inline wire::resource_set make_resources(double cpus, double gpus,
                                         const detail::resource_map& custom) {
  wire::resource_set result{custom.begin(), custom.end()};
  if (cpus > 0)
    result["CPU"] = cpus;
  if (gpus > 0)
    result["GPU"] = gpus;
  return result;
}

/// Where a task or actor runs, on its spec; throws `invalid_argument_error`
/// for a malformed node id.
template <class Spec>
void set_strategy(Spec& spec, const scheduling_strategy& strategy) {
  using kind = scheduling_strategy::kind;
  switch (strategy.type) {
    case kind::hybrid:
      return;
    case kind::spread:
      spec.scheduling = wire::strategy::spread;
      return;
    case kind::node_affinity:
      if (!wire::from_string(strategy.node, spec.affinity_node))
        throw invalid_argument_error("node_affinity needs a node id of 32 "
                                     "hex digits, not '"
                                     + strategy.node + "'");
      spec.scheduling = wire::strategy::node_affinity;
      spec.affinity_soft = strategy.soft;
      return;
  }
  throw invalid_argument_error("unknown scheduling strategy");
}

/// The resources of `opts`, in its placement group's bundle if it names one.
template <class Options>
wire::resource_set make_resources(const Options& opts) {
  auto result = make_resources(opts.num_cpus, opts.num_gpus, opts.resources);
  if (opts.group.empty())
    return result;
  wire::unique_id group;
  if (!wire::from_string(opts.group, group))
    throw invalid_argument_error("not a placement group id: '" + opts.group
                                 + "'");
  return wire::bundle_shape(result, group, opts.bundle);
}

} // namespace caraway::core
