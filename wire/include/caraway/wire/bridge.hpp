#pragma once

// The single bridge between CAF and Protobuf: when CAF serializes a record
// for another process, the record goes through its Protobuf message. The
// inspect() declarations live next to the records (records.hpp).

#include <caf/fwd.hpp>

#include "caraway/wire/records.hpp"

namespace caraway::wire {



/// Registers the records and the component interfaces with CAF.
void add_message_types(caf::actor_system_config& cfg);

} // namespace caraway::wire
