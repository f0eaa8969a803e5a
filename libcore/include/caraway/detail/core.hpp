#pragma once

// The calls that the public templates make into the core worker. Nothing
// here includes CAF's actor headers, so user code compiles quickly.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "caraway/scheduling.hpp"
#include "caraway/wire/buffer.hpp"
#include "caraway/wire/ids.hpp"

namespace caraway::detail {

/// One argument as the caller gives it: a value or a ref.
struct call_arg {
  bool is_ref = false;
  wire::object_id ref;
  wire::buffer_ptr value;
  bool in_store = false;
};

using resource_map = std::map<std::string, double>;

struct task_options {
  double num_cpus = 1;
  double num_gpus = 0;
  resource_map resources;
  /// As in Ray: a task lost with its node runs again up to 3 times.
  int32_t max_retries = 3;
  bool retry_exceptions = false;
  scheduling_strategy scheduling;
  /// Placement group id (empty: none) and bundle (-1: any).
  std::string group;
  int64_t bundle = -1;
};

struct actor_options {
  double num_cpus = 0;
  double num_gpus = 0;
  resource_map resources;
  std::string name;
  std::optional<std::string> ns;
  uint32_t max_concurrency = 1;
  bool detached = false;
  bool get_if_exists = false;
  int32_t max_restarts = 0;
  int32_t max_task_retries = 0;
  scheduling_strategy scheduling;
  /// Placement group id (empty: none) and bundle (-1: any).
  std::string group;
  int64_t bundle = -1;
};

/// Collects refs serialized inside values on this thread while alive; each
/// collected ref is counted once until `take` hands it over.
class nested_scope {
public:
  nested_scope();
  nested_scope(const nested_scope&) = delete;
  nested_scope& operator=(const nested_scope&) = delete;
  ~nested_scope();

  std::vector<wire::object_id> take();

  void add(const wire::object_id& id);

private:
  std::vector<wire::object_id> ids_;
  nested_scope* prev_;
};

/// Checks a resource name and amount; throws `invalid_argument_error`.
void check_resource(const std::string& name, double amount);

/// Cancels the task that makes `id` (see `caraway::cancel`).
void cancel_task(const wire::object_id& id, bool force, bool recursive);

/// Whether the task running on this thread was cancelled.
bool task_cancelled();

wire::object_id submit_task(const std::string& function,
                            std::vector<call_arg> args,
                            std::vector<wire::object_id> nested,
                            const task_options& opts);

wire::object_id submit_method(const wire::actor_id& actor,
                              const std::string& method,
                              std::vector<call_arg> args,
                              std::vector<wire::object_id> nested);

wire::actor_id create_actor(const std::string& class_name,
                            std::vector<std::string> ctor_key,
                            std::vector<call_arg> args,
                            std::vector<wire::object_id> nested,
                            const actor_options& opts);

/// The id of the live actor of this class with this name, if any.
std::optional<wire::actor_id> find_actor(const std::string& class_name,
                                         const std::string& name,
                                         const std::optional<std::string>& ns);

void kill_actor(const wire::actor_id& actor, bool no_restart);

wire::object_id put_value(wire::buffer_ptr value, bool in_store,
                          std::vector<wire::object_id> nested);

/// A negative timeout waits forever.
using timeout_type = std::chrono::nanoseconds;

constexpr timeout_type infinite_timeout = timeout_type{-1};

/// Blocks until the object is ready; throws the error it holds.
wire::buffer_ptr get_value(const wire::object_id& id, timeout_type timeout);

/// Blocks until all objects are ready; throws the first error.
std::vector<wire::buffer_ptr> get_values(const std::vector<wire::object_id>& ids,
                                         timeout_type timeout);

/// Marks which of `ids` are ready once `num_returns` are or time is up.
std::vector<bool> wait_values(const std::vector<wire::object_id>& ids,
                              size_t num_returns, timeout_type timeout);

} // namespace caraway::detail
