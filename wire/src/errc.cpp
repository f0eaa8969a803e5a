#include "caraway/wire/errc.hpp"

#include <caf/atom.hpp>

namespace caraway::wire {

std::string to_string(errc x) {
  switch (x) {
    case errc::none:
      return "none";
    case errc::name_taken:
      return "name_taken";
    case errc::unschedulable:
      return "unschedulable";
    case errc::no_live_node:
      return "no_live_node";
    case errc::not_found:
      return "not_found";
    case errc::invalid_request:
      return "invalid_request";
    case errc::fenced:
      return "fenced";
    case errc::head_unavailable:
      return "head_unavailable";
    case errc::owner_gone:
      return "owner_gone";
  }
  return "unknown";
}

errc code_of(const caf::error& err) {
  if (!err || err.category() != caf::atom("caraway"))
    return errc::none;
  return static_cast<errc>(err.code());
}

} // namespace caraway::wire
