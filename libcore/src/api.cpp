// The entry points of the public templates (caraway/detail/core.hpp).

#include <cmath>

#include "caraway/api.hpp"
#include "caraway/detail/codec.hpp"
#include "caraway/detail/core.hpp"
#include "caraway/error.hpp"
#include "caraway/object_ref.hpp"
#include "owner/core_worker.hpp"
#include "registry.hpp"
#include "current_core.hpp"

namespace caraway::detail {

namespace {

thread_local nested_scope* current_scope = nullptr;

} // namespace

nested_scope::nested_scope() : prev_(current_scope) {
  current_scope = this;
}

nested_scope::~nested_scope() {
  current_scope = prev_;
  for (auto& id : ids_)
    remove_ref(id);
}

std::vector<wire::object_id> nested_scope::take() {
  std::vector<wire::object_id> result;
  result.swap(ids_);
  return result;
}

void nested_scope::add(const wire::object_id& id) {
  add_ref(id);
  ids_.emplace_back(id);
}

void add_ref(const wire::object_id& id) noexcept {
  if (auto core = core::current_core())
    core->add_ref(id);
}

void remove_ref(const wire::object_id& id) noexcept {
  if (auto core = core::current_core())
    core->remove_ref(id);
}

void note_nested_ref(const wire::object_id& id) {
  if (current_scope != nullptr && !id.nil())
    current_scope->add(id);
}

wire::buffer_ptr allocate_value(size_t size, bool& in_store) {
  if (auto core = core::current_core())
    return core->allocate(size, in_store);
  in_store = false;
  return std::make_shared<wire::buffer>(size);
}

std::vector<char>& scratch_buffer() {
  thread_local std::vector<char> result;
  return result;
}

void throw_codec_error(const char* what, const std::type_info& ti,
                       const std::string& why) {
  throw invalid_argument_error(std::string{"cannot "} + what
                               + " a value of type " + type_key(ti) + ": "
                               + why);
}

void check_resource(const std::string& name, double amount) {
  if (name.empty())
    throw invalid_argument_error("a resource name must not be empty");
  // Names go into Protobuf map keys, which must be UTF-8; printable ASCII
  // keeps them also readable in every listing.
  for (unsigned char c : name)
    if (c <= ' ' || c > '~')
      throw invalid_argument_error("resource name '" + name
                                   + "' may hold only printable ASCII "
                                     "characters, no spaces");
  if (std::isnan(amount) || std::isinf(amount) || amount < 0)
    throw invalid_argument_error("resource '" + name
                                 + "' needs a finite, non-negative amount, got "
                                 + std::to_string(amount));
}

wire::object_id
submit_task(const std::string& function, std::vector<call_arg> args,
            std::vector<wire::object_id> nested, const task_options& opts) {
  return core::require_core().submit_task(function, std::move(args),
                                          std::move(nested), opts);
}

void cancel_task(const wire::object_id& id, bool force, bool recursive) {
  if (force)
    throw invalid_argument_error(
      "cancel with force kills the task's worker process, and this version "
      "runs tasks in threads of the node: cancel without force, and check "
      "caraway::cancelled() in the task");
  core::require_core().cancel(id, recursive);
}

bool task_cancelled() {
  auto ctx = owner::current_context();
  if (ctx == nullptr || ctx->task.nil())
    return false;
  return core::require_core().cancel_requested(ctx->task);
}

wire::object_id
submit_method(const wire::actor_id& actor, const std::string& method,
              std::vector<call_arg> args, std::vector<wire::object_id> nested) {
  return core::require_core().submit_method(actor, method, std::move(args),
                                            std::move(nested));
}

wire::actor_id
create_actor(const std::string& class_name, std::vector<std::string> ctor_key,
             std::vector<call_arg> args, std::vector<wire::object_id> nested,
             const actor_options& opts) {
  return core::require_core().create_actor(
    class_name, std::move(ctor_key), std::move(args), std::move(nested), opts);
}

std::optional<wire::actor_id> find_actor(const std::string& class_name,
                                         const std::string& name,
                                         const std::optional<std::string>& ns) {
  return core::require_core().find_actor(class_name, name, ns);
}

void kill_actor(const wire::actor_id& actor, bool no_restart) {
  core::require_core().kill_actor(actor, no_restart);
}

wire::object_id put_value(wire::buffer_ptr value, bool in_store,
                          std::vector<wire::object_id> nested) {
  return core::require_core().put(std::move(value), in_store,
                                  std::move(nested));
}

namespace {

[[noreturn]] void throw_not_ready(owner::core_worker& core,
                                  const wire::object_id& id,
                                  timeout_type timeout) {
  if (core.stopped())
    throw error("caraway shut down while waiting for object "
                + wire::to_string(id));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  throw timeout_error("get timed out after " + std::to_string(ms.count())
                      + " ms waiting for object " + wire::to_string(id));
}

// When a get with `timeout` started now must return.
owner::memory_store::clock::time_point deadline_of(timeout_type timeout) {
  using clock = owner::memory_store::clock;
  if (timeout.count() < 0)
    return clock::time_point::max();
  return clock::now() + timeout;
}

} // namespace

wire::buffer_ptr get_value(const wire::object_id& id, timeout_type timeout) {
  if (id.nil())
    throw invalid_argument_error("get of an empty object_ref");
  auto& core = core::require_core();
  if (auto value = core.ready_value(id))
    return value;
  auto deadline = deadline_of(timeout);
  auto ready = core.wait({id}, 1, timeout);
  if (!ready[0])
    throw_not_ready(core, id, timeout);
  return core.value_of(id, deadline);
}

std::vector<wire::buffer_ptr>
get_values(const std::vector<wire::object_id>& ids, timeout_type timeout) {
  for (auto& id : ids)
    if (id.nil())
      throw invalid_argument_error("get of an empty object_ref");
  auto& core = core::require_core();
  auto deadline = deadline_of(timeout);
  auto ready = core.wait(ids, ids.size(), timeout);
  for (size_t i = 0; i < ids.size(); ++i)
    if (!ready[i])
      throw_not_ready(core, ids[i], timeout);
  std::vector<wire::buffer_ptr> result;
  result.reserve(ids.size());
  for (auto& id : ids)
    result.emplace_back(core.value_of(id, deadline));
  return result;
}

std::vector<bool> wait_values(const std::vector<wire::object_id>& ids,
                              size_t num_returns, timeout_type timeout) {
  auto& core = core::require_core();
  return core.wait(ids, num_returns, timeout);
}

} // namespace caraway::detail

namespace caraway {

std::string get_namespace() {
  return core::require_core().current_namespace();
}

bool cancelled() {
  return detail::task_cancelled();
}

bool was_restarted() {
  auto ctx = owner::current_context();
  return ctx != nullptr && ctx->restarted;
}

} // namespace caraway
