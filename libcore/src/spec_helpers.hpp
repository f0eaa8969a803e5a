#pragma once

// Small pieces of building task specs, shared by the core worker's files.

#include "caraway/detail/core.hpp"
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

// Takes the spec to send: moved when no retry may need it again.
inline wire::task_spec take_spec(wire::task_spec& spec) {
  if (spec.max_retries > 0)
    return spec;
  return std::move(spec);
}

} // namespace caraway::core
