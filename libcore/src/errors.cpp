#include "errors.hpp"

#include <caf/error.hpp>
#include <caf/sec.hpp>

#include "caraway/error.hpp"
#include "caraway/wire/errc.hpp"

namespace caraway {

namespace {

std::string task_what(const std::string& type_name, const std::string& msg) {
  if (type_name.empty())
    return "task failed: " + msg;
  return "task failed with " + type_name + ": " + msg;
}

} // namespace

task_error::task_error(std::string type_name, std::string message)
  : error(task_what(type_name, message)),
    type_name_(std::move(type_name)),
    message_(std::move(message)) {
  // nop
}

} // namespace caraway

namespace caraway::core {

void raise(const wire::error_info& err) {
  using wire::error_kind;
  switch (err.kind) {
    case error_kind::task_failed:
      throw task_error(err.type_name, err.message);
    case error_kind::actor_died:
      throw actor_died_error(err.message);
    case error_kind::object_lost:
      throw object_lost_error(err.message);
    case error_kind::owner_died:
      throw owner_died_error(err.message);
    case error_kind::node_died:
      throw node_died_error(err.message);
    case error_kind::worker_died:
      throw worker_crashed_error(err.message);
    case error_kind::cancelled:
      throw cancelled_error(err.message);
    case error_kind::unschedulable:
      throw unschedulable_error(err.message);
    case error_kind::function_missing:
      throw registration_error(err.message);
    case error_kind::invalid_argument:
      throw invalid_argument_error(err.message);
    default:
      throw error(err.message.empty() ? "unknown error" : err.message);
  }
}

void raise(const caf::error& err, const std::string& text) {
  switch (wire::code_of(err)) {
    case wire::errc::name_taken:
    case wire::errc::invalid_request:
      throw invalid_argument_error(text);
    case wire::errc::unschedulable:
      throw unschedulable_error(text);
    case wire::errc::none:
      break;
    default:
      throw error(text);
  }
  throw error("the gcs did not answer: " + text);
}

} // namespace caraway::core
