#pragma once

// States and strategies by the names the tools show (CLI, metrics):
// "ALIVE", "PENDING", "STRICT_SPREAD", ...

#include <string>

#include "caraway/wire/records.hpp"

namespace caraway::wire {

const char* name_of(actor_state x);
const char* name_of(task_state x);
const char* name_of(object_state x);
const char* name_of(metric_kind x);

/// Whether Prometheus takes `x` as a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
/// or, with `label`, as a label name (no ':'); names starting with "__"
/// are reserved.
bool valid_metric_name(const std::string& x, bool label = false);
const char* name_of(placement_group_state x);
const char* name_of(placement_strategy x);

/// True for the resource names placement group bundles add to their nodes
/// ("CPU_group_<id>", ...), which the tools leave out.
bool of_bundle(const std::string& resource);

} // namespace caraway::wire
