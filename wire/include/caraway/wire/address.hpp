#pragma once

#include <cstdint>
#include <string>

namespace caraway::wire {

/// Splits "host:port"; false (with `why` set) if malformed.
bool split_address(const std::string& address, std::string& host,
                   uint16_t& port, std::string& why);

} // namespace caraway::wire
