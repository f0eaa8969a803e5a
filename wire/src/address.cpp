#include "caraway/wire/address.hpp"

#include <cstdlib>

namespace caraway::wire {

bool split_address(const std::string& address, std::string& host,
                   uint16_t& port, std::string& why) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    why = "'" + address + "' is not of the form host:port";
    return false;
  }
  host = address.substr(0, colon);
  auto text = address.substr(colon + 1);
  char* end = nullptr;
  auto value = std::strtoul(text.c_str(), &end, 10);
  if (end != text.c_str() + text.size() || value == 0 || value > 65535) {
    why = "'" + text + "' is not a port number";
    return false;
  }
  port = static_cast<uint16_t>(value);
  return true;
}

} // namespace caraway::wire
