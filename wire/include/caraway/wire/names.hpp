#pragma once

// States and strategies by the names the tools show (CLI, metrics):
// "ALIVE", "PENDING", "STRICT_SPREAD", ...

#include "caraway/wire/records.hpp"

namespace caraway::wire {

const char* name_of(actor_state x);
const char* name_of(task_state x);
const char* name_of(placement_group_state x);
const char* name_of(placement_strategy x);

} // namespace caraway::wire
