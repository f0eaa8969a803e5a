#pragma once

#include <cstdint>

namespace caraway::runtime {

/// Messages from other processes larger than this are refused: CAF closes
/// the connection on reading the header that announces one, before it
/// allocates memory for it. Process-wide; `max_message_bytes` of the
/// config sets it when the actor system starts.
void set_max_message_bytes(uint64_t bytes);

uint64_t max_message_bytes();

} // namespace caraway::runtime
