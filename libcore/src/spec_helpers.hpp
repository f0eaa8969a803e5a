#pragma once

// Small pieces of building task specs.

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

} // namespace caraway::core
