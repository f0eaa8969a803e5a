#include "caraway/wire/names.hpp"

namespace caraway::wire {

const char* name_of(actor_state x) {
  switch (x) {
    case actor_state::pending:
      return "PENDING";
    case actor_state::alive:
      return "ALIVE";
    case actor_state::restarting:
      return "RESTARTING";
    default:
      return "DEAD";
  }
}

const char* name_of(task_state x) {
  switch (x) {
    case task_state::pending:
      return "PENDING";
    case task_state::scheduled:
      return "SCHEDULED";
    case task_state::running:
      return "RUNNING";
    case task_state::finished:
      return "FINISHED";
    default:
      return "FAILED";
  }
}

const char* name_of(object_state x) {
  switch (x) {
    case object_state::pending:
      return "PENDING";
    case object_state::ready:
      return "READY";
    default:
      return "FAILED";
  }
}

const char* name_of(metric_kind x) {
  switch (x) {
    case metric_kind::counter:
      return "counter";
    case metric_kind::gauge:
      return "gauge";
    default:
      return "histogram";
  }
}

bool valid_metric_name(const std::string& x, bool label) {
  if (x.empty() || x.compare(0, 2, "__") == 0)
    return false;
  for (size_t i = 0; i < x.size(); ++i) {
    auto c = x[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
              || (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

const char* name_of(placement_group_state x) {
  switch (x) {
    case placement_group_state::pending:
      return "PENDING";
    case placement_group_state::created:
      return "CREATED";
    case placement_group_state::removed:
      return "REMOVED";
    default:
      return "RESCHEDULING";
  }
}

const char* name_of(placement_strategy x) {
  switch (x) {
    case placement_strategy::pack:
      return "PACK";
    case placement_strategy::spread:
      return "SPREAD";
    case placement_strategy::strict_pack:
      return "STRICT_PACK";
    default:
      return "STRICT_SPREAD";
  }
}

bool of_bundle(const std::string& resource) {
  return resource.find("_group_") != std::string::npos;
}

} // namespace caraway::wire
