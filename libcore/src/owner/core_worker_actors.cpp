// The core worker's side of actors: creating, finding and killing them, and
// queueing calls to each in submission order.

#include "owner/core_worker.hpp"

#include <caf/all.hpp>

#include "caraway/error.hpp"
#include "errors.hpp"
#include "registry.hpp"
#include "spec_helpers.hpp"

namespace caraway::owner {

namespace {

std::string error_text(const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return caf::to_string(err);
}

std::string join_types(const std::vector<std::string>& xs) {
  std::string result = "(";
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      result += ", ";
    result += xs[i];
  }
  return result + ")";
}

} // namespace

wire::object_id
core_worker::submit_method(const wire::actor_id& actor,
                           const std::string& method,
                           std::vector<detail::call_arg> args,
                           std::vector<wire::object_id> nested) {
  wire::task_spec spec;
  spec.id = next_id();
  spec.actor = actor;
  spec.function = method;
  auto ctx = current_context();
  spec.depth = ctx != nullptr ? ctx->depth + 1 : 0;
  spec.owner = handles_.owner;
  spec.ns = current_namespace();
  auto id = spec.id;
  bool known;
  {
    std::lock_guard<short_mutex> guard{mtx_};
    known = actors_.find(actor) != nullptr;
  }
  // Only the first call through such a handle waits for the gcs.
  wire::error_info err = known ? wire::error_info{} : look_up_actor(actor);
  std::vector<wire::object_id> arg_refs;
  auto task = make_task(std::move(spec), args, std::move(nested), arg_refs);
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  // A call in flight when the actor restarts may be sent again.
  if (auto entry = actors_.find(actor))
    task.spec.max_retries = entry->max_task_retries;
  add_task_locked(std::move(task), arg_refs);
  if (err.kind == wire::error_kind::none && actors_.enqueue(actor, id, err))
    flush_actor(actor, fx, settled);
  else
    fail_task(id, std::move(err), fx, settled);
  settle(settled, fx);
  apply(lock, fx);
  return id;
}

void core_worker::flush_actor(const wire::actor_id& actor, effects& fx,
                              std::vector<wire::object_id>& settled) {
  auto entry = actors_.find(actor);
  if (entry == nullptr || entry->state != wire::actor_state::alive
      || !entry->blocked_on.nil())
    return;
  while (!entry->queue.empty()) {
    auto id = entry->queue.front();
    auto task = tasks_.find(id);
    if (task == nullptr) {
      entry->queue.pop_front();
      continue;
    }
    wire::error_info err;
    auto waiting = resolve(*task, err);
    if (err.kind != wire::error_kind::none) {
      entry->queue.pop_front();
      fail_task(id, std::move(err), fx, settled);
      continue;
    }
    if (!waiting.nil()) {
      entry->blocked_on = waiting;
      deps_.add_actor(waiting, actor);
      return;
    }
    task->sent = true;
    // Sent under the lock: a call sent after it could be overtaken by a
    // later call that another thread sends first, and calls of one caller
    // must arrive in order. An enqueue neither blocks nor runs user code.
    caf::anon_send(entry->host, wire::call_atom::value,
                   tasks_.spec_to_send(*task));
    entry->in_flight.insert(id);
    entry->queue.pop_front();
  }
}

void core_worker::on_actor_update(const wire::actor_info& info) {
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  if (actors_.update(info, !memory_.stopped())) {
    auto& entry = actors_.get(info.id);
    // The constructor ran (or never will): its arguments are free, unless
    // it may have to run again.
    if (info.state == wire::actor_state::dead
        || (info.state == wire::actor_state::alive
            && entry.max_restarts == 0)) {
      std::vector<wire::object_id> holds;
      holds.swap(entry.holds);
      release_holds(holds, fx);
    }
    if (info.state == wire::actor_state::alive)
      flush_actor(info.id, fx, settled);
    else if (info.state == wire::actor_state::dead)
      mark_actor_dead(info.id, info.death, fx, settled);
    else if (info.state == wire::actor_state::restarting)
      requeue_in_flight(info, fx, settled);
  }
  settle(settled, fx);
  apply(lock, fx);
}

void core_worker::requeue_in_flight(const wire::actor_info& info, effects& fx,
                                    std::vector<wire::object_id>& settled) {
  auto calls = actors_.take_in_flight(info.id);
  std::vector<wire::task_id> again;
  for (auto& id : calls) {
    auto task = tasks_.find(id);
    if (task == nullptr)
      continue;
    auto max = info.max_task_retries;
    if (max < 0 || task->attempts < max) {
      ++task->attempts;
      task->sent = false;
      again.push_back(id);
      continue;
    }
    fail_task(id,
              {wire::error_kind::actor_died, "",
               "the actor restarts (" + info.death.message
                 + "); a call in flight then fails unless the actor has "
                   "max_task_retries"},
              fx, settled);
  }
  // Sent again first, in their order, before the calls still queued.
  if (auto entry = actors_.find(info.id))
    entry->queue.insert(entry->queue.begin(), again.begin(), again.end());
}

void core_worker::mark_actor_dead(const wire::actor_id& actor,
                                  wire::error_info why, effects& fx,
                                  std::vector<wire::object_id>& settled) {
  why.kind = wire::error_kind::actor_died;
  std::vector<wire::object_id> holds;
  auto victims = actors_.kill(actor, why, holds);
  release_holds(holds, fx);
  for (auto& id : victims)
    fail_task(id, why, fx, settled);
}

template <class Result, class... Ts>
Result core_worker::ask_gcs(Ts&&... xs) {
  std::optional<Result> result;
  caf::error failure;
  auto timeout = std::chrono::milliseconds(cfg_.request_timeout_ms);
  with_scoped_actor(sys_, [&](caf::scoped_actor& self) {
    self->request(handles_.gcs, timeout, std::forward<Ts>(xs)...)
      .receive([&](Result& x) { result = std::move(x); },
               [&](caf::error& err) { failure = std::move(err); });
  });
  if (!result)
    core::raise(failure, error_text(failure));
  return std::move(*result);
}

wire::actor_id core_worker::create_actor(const std::string& class_name,
                                         std::vector<std::string> ctor_key,
                                         std::vector<detail::call_arg> args,
                                         std::vector<wire::object_id> nested,
                                         const detail::actor_options& opts) {
  // Until the entry takes them over, the refs in `nested` (refs nested in
  // the arguments and the objects made for them) are ours to release.
  struct release_guard {
    core_worker* self;
    std::vector<wire::object_id>* ids;
    ~release_guard() {
      if (ids != nullptr)
        for (auto& id : *ids)
          self->remove_ref(id);
    }
  } guard{this, &nested};
  auto cls = core::registry::instance().find_class(class_name);
  if (cls == nullptr)
    throw registration_error("actor class '" + class_name
                             + "' is not registered");
  if (core::registry::instance().find_constructor(*cls, ctor_key) == nullptr) {
    std::string known;
    for (auto& key : core::registry::instance().constructor_keys(*cls))
      known += (known.empty() ? "" : ", ") + join_types(key);
    throw invalid_argument_error(
      "actor class '" + class_name + "' has no constructor taking "
      + join_types(ctor_key) + "; registered: " + known);
  }
  bool reuse = opts.get_if_exists && !opts.name.empty();
  if (reuse)
    if (auto found = find_actor(class_name, opts.name, opts.ns)) {
      add_ref(*found);
      return *found;
    }
  wire::actor_spec spec;
  spec.id = next_actor_id();
  spec.class_name = class_name;
  spec.name = opts.name;
  spec.ns = opts.ns ? *opts.ns : current_namespace();
  spec.ctor_key = std::move(ctor_key);
  // Constructor arguments given as refs are resolved here, by waiting; the
  // actor entry holds them until the actor is constructed.
  std::vector<wire::object_id> arg_refs;
  for (auto& arg : args) {
    auto x = make_arg(arg, nested, arg_refs);
    if (x.is_ref) {
      wait({x.ref}, 1, detail::infinite_timeout);
      auto snap = memory_.lookup(x.ref);
      if (snap.st == memory_store::state::failed)
        core::raise(snap.error);
      if (snap.st != memory_store::state::ready)
        throw error("constructor argument " + wire::to_string(x.ref)
                    + " is not ready");
      fill_arg(x, snap);
    }
    spec.args.emplace_back(std::move(x));
  }
  spec.resources = core::make_resources(opts);
  core::set_strategy(spec, opts.scheduling);
  spec.max_concurrency = opts.max_concurrency;
  spec.detached = opts.detached;
  spec.max_restarts = opts.max_restarts;
  spec.job = job();
  spec.max_task_retries = opts.max_task_retries;
  spec.owner = handles_.owner;
  auto id = spec.id;
  {
    std::lock_guard<short_mutex> lock{mtx_};
    count_holds(nested, arg_refs);
    auto& entry = actors_.get(id);
    entry.class_name = class_name;
    entry.holds = std::move(nested);
    entry.max_restarts = opts.max_restarts;
    entry.max_task_retries = opts.max_task_retries;
    entry.detached = opts.detached;
    // The handle `remote()` returns.
    refs_.add_owned(id, ref_kind::local);
    guard.ids = nullptr;
  }
  try {
    ask_gcs<wire::actor_id>(wire::create_atom::value, std::move(spec));
  } catch (...) {
    effects fx;
    lock_type lock{mtx_};
    if (auto entry = actors_.find(id)) {
      release_holds(entry->holds, fx);
      actors_.erase(id);
    }
    // No actor to end: its entry is gone first.
    remove_ref_locked(id, ref_kind::local, fx);
    apply(lock, fx);
    // Another process took the name first: that actor is the one wanted.
    if (reuse)
      if (auto found = find_actor(class_name, opts.name, opts.ns)) {
        add_ref(*found);
        return *found;
      }
    throw;
  }
  return id;
}

std::optional<wire::actor_id>
core_worker::find_actor(const std::string& class_name, const std::string& name,
                        const std::optional<std::string>& ns) {
  auto info = ask_gcs<wire::actor_info>(wire::lookup_atom::value, name,
                                        ns ? *ns : current_namespace());
  if (info.id.nil())
    return std::nullopt;
  if (info.class_name != class_name)
    throw invalid_argument_error("actor '" + name + "' is a " + info.class_name
                                 + ", not a " + class_name);
  effects fx;
  lock_type lock{mtx_};
  note_actor(info, fx);
  apply(lock, fx);
  return info.id;
}

void core_worker::note_actor(const wire::actor_info& info, effects& fx) {
  std::vector<wire::object_id> settled;
  // The owner actor may have recorded a newer state meanwhile: keep it.
  actors_.get(info.id).class_name = info.class_name;
  actors_.update(info, !memory_.stopped());
  if (info.state == wire::actor_state::dead)
    mark_actor_dead(info.id, info.death, fx, settled);
  else
    flush_actor(info.id, fx, settled);
  settle(settled, fx);
}

wire::error_info core_worker::look_up_actor(const wire::actor_id& actor) {
  wire::actor_info info;
  try {
    info = ask_gcs<wire::actor_info>(wire::lookup_atom::value, actor);
  } catch (const std::exception& e) {
    return {wire::error_kind::actor_died, "",
            "cannot look up actor " + wire::to_string(actor) + ": " + e.what()};
  }
  if (info.id.nil())
    return {wire::error_kind::actor_died, "",
            "unknown actor " + wire::to_string(actor)
              + ": the cluster never created it"};
  // A pending actor's calls wait in its queue until the gcs publishes it
  // alive to this process's owner.
  effects fx;
  lock_type lock{mtx_};
  note_actor(info, fx);
  apply(lock, fx);
  return {};
}

void core_worker::kill_actor(const wire::actor_id& actor, bool no_restart) {
  ask_gcs<bool>(wire::kill_atom::value, actor, no_restart);
  // A restart is announced by the gcs.
  if (!no_restart)
    return;
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  mark_actor_dead(actor,
                  {wire::error_kind::actor_died, "", "the actor was killed"},
                  fx, settled);
  settle(settled, fx);
  apply(lock, fx);
}

wire::unique_id core_worker::create_group(wire::placement_group_info info) {
  info.id = next_id();
  info.ns = current_namespace();
  return ask_gcs<wire::unique_id>(wire::group_atom::value,
                                  wire::create_atom::value, std::move(info),
                                  handles_.owner);
}

wire::placement_group_info core_worker::group(const wire::unique_id& id) {
  return ask_gcs<wire::placement_group_info>(wire::group_atom::value,
                                             wire::lookup_atom::value, id);
}

wire::placement_group_info
core_worker::group_named(const std::string& name) {
  return ask_gcs<wire::placement_group_info>(
    wire::group_atom::value, wire::lookup_atom::value, name,
    current_namespace());
}

bool core_worker::remove_group(const wire::unique_id& id) {
  return ask_gcs<bool>(wire::group_atom::value, wire::kill_atom::value, id);
}

std::vector<wire::placement_group_info> core_worker::groups() {
  return ask_gcs<std::vector<wire::placement_group_info>>(
    wire::group_atom::value);
}

} // namespace caraway::owner
