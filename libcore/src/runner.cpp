#include "runner.hpp"

#include <unistd.h>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "caraway/detail/core.hpp"
#include "caraway/error.hpp"
#include "registry.hpp"
#include "wall_clock.hpp"

namespace caraway::core {

namespace {

// Asked once: glibc asks the kernel each time.
int32_t own_pid() {
  static const int32_t pid = static_cast<int32_t>(::getpid());
  return pid;
}

std::vector<std::pair<const char*, size_t>>
arg_views(const std::vector<wire::buffer_ptr>& values) {
  std::vector<std::pair<const char*, size_t>> result;
  result.reserve(values.size());
  for (auto& value : values) {
    if (value)
      result.emplace_back(value->data(), value->size());
    else
      result.emplace_back(nullptr, 0);
  }
  return result;
}

// Keeps the root cause when user code rethrows a caraway error.
wire::error_info describe(std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const task_error& e) {
    return {wire::error_kind::task_failed, e.type_name(), e.message()};
  } catch (const std::exception& e) {
    return {wire::error_kind::task_failed, detail::type_key(typeid(e)),
            e.what()};
  } catch (...) {
    return {wire::error_kind::task_failed, "unknown",
            "a value that is not a std::exception was thrown"};
  }
}

} // namespace

bool runner::fetch_args(const std::vector<wire::task_arg>& args,
                        const wire::owner_actor& owner,
                        std::vector<wire::buffer_ptr>& values,
                        wire::error_info& err) {
  values.reserve(args.size());
  for (auto& arg : args) {
    if (arg.value || arg.location.empty()) {
      values.emplace_back(arg.value);
      continue;
    }
    std::string why;
    bool pulled = false;
    auto value = core_.fetch(arg.ref, arg.location, why, &pulled);
    if (pulled)
      core_.note_copy(owner, arg.ref);
    if (!value) {
      err = {wire::error_kind::object_lost, "", why + " (on " + where() + ")",
             arg.ref};
      return false;
    }
    values.emplace_back(std::move(value));
  }
  return true;
}

template <class F>
void runner::invoke(wire::task_result& result, const wire::task_spec& spec,
                    F&& fn) {
  std::vector<wire::buffer_ptr> values;
  if (!fetch_args(spec.args, spec.owner, values, result.error))
    return;
  detail::invocation inv;
  inv.args = arg_views(values);
  detail::nested_scope scope;
  try {
    fn(inv);
  } catch (...) {
    result.error = describe(std::current_exception());
    return;
  }
  result.contained = scope.take();
  // Keeps them alive until the owner of the result holds them.
  result.sender = core_.owner();
  result.in_store = inv.in_store;
  if (inv.in_store) {
    core_.store().seal(result.id, inv.result);
    result.location = core_.data_address();
    result.store = core_.store_actor();
    result.size = inv.result ? inv.result->size() : 0;
  }
  result.value = std::move(inv.result);
}

void runner::deliver(const wire::task_spec& spec, wire::task_result result) {
  // The owner ignores results of attempts it gave up on.
  result.attempt = spec.attempt;
  if (core_.is_own(spec.owner)) {
    auto lease = result.lease_done;
    core_.on_result(result);
    // The owner's submitter hears that the lease is free after the result.
    if (lease != 0)
      caf::anon_send(spec.owner, wire::done_atom::value, lease);
  } else {
    task_runner::deliver(spec, std::move(result));
  }
}

std::string runner::where() const {
  if (!where_.empty())
    return where_;
  auto& id = core_.node_id();
  return id.empty() ? std::string{"this process"} : "node " + id;
}

wire::task_result runner::run_task(const wire::task_spec& spec,
                                   const node::worker_context& ctx) {
  if (on_start)
    on_start(spec);
  wire::task_result result;
  result.id = spec.id;
  // Cancelled while it waited in its batch: it does not run.
  if (core_.cancel_requested(spec.id)) {
    core_.run_ended(spec.id);
    result.error = owner::core_worker::cancelled_error_info(spec.id);
    return result;
  }
  auto started = wall_clock_ns();
  core_.run_started(spec, started);
  result = run_uncancelled(spec, ctx);
  result.started_ns = started;
  result.ran_until_ns = wall_clock_ns();
  result.pid = own_pid();
  // Cancelled while it ran: its get says so (also when it failed for that,
  // e.g. a cancelled child's get threw), unless its value holds refs (they
  // would have to be let go of here).
  if (core_.cancel_requested(spec.id) && result.contained.empty()) {
    result = wire::task_result{};
    result.id = spec.id;
    result.error = owner::core_worker::cancelled_error_info(spec.id);
  }
  core_.run_ended(spec.id);
  return result;
}

wire::task_result runner::run_uncancelled(const wire::task_spec& spec,
                                          const node::worker_context& ctx) {
  owner::thread_context tc{&ctx, spec.depth, false, &spec.ns, spec.id};
  owner::context_guard guard{&tc};
  wire::task_result result;
  result.id = spec.id;
  auto fn = registry::instance().find_function(spec.function);
  if (fn == nullptr) {
    result.error = {wire::error_kind::function_missing, "",
                    "function '" + spec.function + "' is not registered on "
                      + where()
                      + "; register it with CARAWAY_REMOTE and "
                        "load its library there"};
    return result;
  }
  invoke(result, spec, [fn](detail::invocation& inv) { (*fn)(inv); });
  return result;
}

std::shared_ptr<void> runner::construct(const wire::actor_spec& spec,
                                        const node::worker_context& ctx,
                                        wire::error_info& err) {
  auto cls = registry::instance().find_class(spec.class_name);
  if (cls == nullptr) {
    err = {wire::error_kind::actor_died, "",
           "actor class '" + spec.class_name + "' is not registered on "
             + where()};
    return nullptr;
  }
  auto factory = registry::instance().find_constructor(*cls, spec.ctor_key);
  if (factory == nullptr) {
    err = {wire::error_kind::actor_died, "",
           "actor class '" + spec.class_name
             + "' has no constructor for these arguments"};
    return nullptr;
  }
  owner::thread_context tc{&ctx, 0, spec.num_restarts > 0, &spec.ns, {}};
  owner::context_guard guard{&tc};
  std::vector<wire::buffer_ptr> values;
  wire::error_info fetch_err;
  if (!fetch_args(spec.args, spec.owner, values, fetch_err)) {
    err = {wire::error_kind::actor_died, "",
           "the constructor of " + spec.class_name
             + " got no arguments: " + fetch_err.message};
    return nullptr;
  }
  detail::invocation inv;
  inv.args = arg_views(values);
  try {
    auto ptr = (*factory)(inv);
    return std::shared_ptr<void>(ptr, cls->deleter);
  } catch (...) {
    auto why = describe(std::current_exception());
    err = {wire::error_kind::actor_died, why.type_name,
           "the constructor of " + spec.class_name + " threw " + why.type_name
             + ": " + why.message};
    return nullptr;
  }
}

wire::task_result runner::run_method(void* self, const wire::actor_spec& actor,
                                     const wire::task_spec& spec,
                                     const node::worker_context& ctx) {
  if (on_start)
    on_start(spec);
  owner::thread_context tc{&ctx, spec.depth, actor.num_restarts > 0,
                          &spec.ns, {}};
  owner::context_guard guard{&tc};
  wire::task_result result;
  result.id = spec.id;
  auto& reg = registry::instance();
  auto cls = reg.find_class(actor.class_name);
  auto method = cls != nullptr ? reg.find_method(*cls, spec.function) : nullptr;
  if (method == nullptr) {
    result.error = {wire::error_kind::function_missing, "",
                    "method '" + actor.class_name + "::" + spec.function
                      + "' is not registered on " + where()};
    return result;
  }
  auto& invoker = *method;
  invoke(result, spec, [&](detail::invocation& inv) { invoker(self, inv); });
  return result;
}

} // namespace caraway::core
