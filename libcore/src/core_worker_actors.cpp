// The core worker's side of actors: creating, finding and killing them, and
// queueing calls to each in submission order.

#include "core_worker.hpp"

#include <caf/all.hpp>

#include "caraway/error.hpp"
#include "errors.hpp"
#include "registry.hpp"
#include "spec_helpers.hpp"

namespace caraway::core {

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
  spec.owner = owner_;
  auto id = spec.id;
  bool known;
  {
    std::lock_guard<std::mutex> guard{actors_mtx_};
    known = actors_.count(actor) > 0;
  }
  // Only the first call through such a handle waits for the gcs.
  wire::error_info err = known ? wire::error_info{} : look_up_actor(actor);
  add_task(std::move(spec), args, std::move(nested));
  if (err.kind == wire::error_kind::none) {
    std::lock_guard<std::mutex> guard{actors_mtx_};
    auto i = actors_.find(actor);
    if (i == actors_.end())
      err = {wire::error_kind::actor_died, "",
             "unknown actor " + wire::to_string(actor)};
    else if (i->second.state == wire::actor_state::dead)
      err = i->second.death;
    else
      i->second.queue.push_back(id);
  }
  if (err.kind != wire::error_kind::none)
    fail_task(id, std::move(err));
  else
    flush_actor(actor);
  return id;
}

void core_worker::flush_actor(const wire::actor_id& actor) {
  std::vector<std::pair<wire::task_id, wire::error_info>> failed;
  {
    std::lock_guard<std::mutex> guard{actors_mtx_};
    auto i = actors_.find(actor);
    if (i == actors_.end() || i->second.state != wire::actor_state::alive)
      return;
    auto& entry = i->second;
    auto host = caf::actor_cast<wire::actor_host_actor>(entry.host);
    while (!entry.queue.empty()) {
      auto id = entry.queue.front();
      std::lock_guard<std::mutex> tasks_guard{tasks_mtx_};
      auto j = tasks_.find(id);
      if (j == tasks_.end()) {
        entry.queue.pop_front();
        continue;
      }
      wire::error_info err;
      auto waiting = resolve(j->second, err);
      if (err.kind != wire::error_kind::none) {
        failed.emplace_back(id, std::move(err));
        entry.queue.pop_front();
        continue;
      }
      if (!waiting.nil()) {
        if (entry.blocked_on == waiting)
          break;
        auto cb = [this, actor] {
          {
            std::lock_guard<std::mutex> guard{actors_mtx_};
            auto k = actors_.find(actor);
            if (k != actors_.end())
              k->second.blocked_on = {};
          }
          flush_actor(actor);
        };
        if (objects_.on_ready(waiting, std::move(cb))) {
          entry.blocked_on = waiting;
          break;
        }
        continue;
      }
      j->second.sent = true;
      caf::anon_send(host, wire::call_atom::value, take_spec(j->second.spec));
      entry.in_flight.insert(id);
      entry.queue.pop_front();
    }
  }
  for (auto& [id, err] : failed)
    fail_task(id, std::move(err));
}

void core_worker::on_actor_update(const wire::actor_info& info) {
  std::vector<wire::object_id> holds;
  {
    std::lock_guard<std::mutex> guard{actors_mtx_};
    auto& entry = actors_[info.id];
    if (entry.class_name.empty())
      entry.class_name = info.class_name;
    if (entry.state == wire::actor_state::dead)
      return; // death is final
    if (info.state != wire::actor_state::pending)
      holds.swap(entry.holds);
    // After shutdown began, a strong handle would keep the host's thread
    // (and with it ~actor_system) waiting.
    if (info.state == wire::actor_state::alive && !objects_.stopped()) {
      entry.state = info.state;
      entry.host = info.host;
    }
  }
  release(holds);
  if (info.state == wire::actor_state::alive)
    flush_actor(info.id);
  else if (info.state == wire::actor_state::dead)
    mark_actor_dead(info.id, info.death);
}

void core_worker::mark_actor_dead(const wire::actor_id& actor,
                                  wire::error_info why) {
  why.kind = wire::error_kind::actor_died;
  std::vector<wire::task_id> victims;
  std::vector<wire::object_id> holds;
  {
    std::lock_guard<std::mutex> guard{actors_mtx_};
    auto& entry = actors_[actor];
    if (entry.state != wire::actor_state::dead) {
      entry.state = wire::actor_state::dead;
      entry.death = why;
    }
    entry.host = nullptr;
    victims.assign(entry.queue.begin(), entry.queue.end());
    victims.insert(victims.end(), entry.in_flight.begin(),
                   entry.in_flight.end());
    entry.queue.clear();
    entry.in_flight.clear();
    holds.swap(entry.holds);
  }
  release(holds);
  for (auto& id : victims)
    fail_task(id, why);
}

template <class Result, class... Ts>
Result core_worker::ask_gcs(Ts&&... xs) {
  std::optional<Result> result;
  std::string failure;
  auto timeout = std::chrono::milliseconds(cfg_.request_timeout_ms);
  with_scoped_actor(sys_, [&](caf::scoped_actor& self) {
    self->request(handles_.gcs, timeout, std::forward<Ts>(xs)...)
      .receive([&](Result& x) { result = std::move(x); },
               [&](caf::error& err) { failure = error_text(err); });
  });
  if (!result) {
    if (failure.find("already exists") != std::string::npos)
      throw invalid_argument_error(failure);
    throw error("the gcs did not answer: " + failure);
  }
  return std::move(*result);
}

wire::actor_id core_worker::create_actor(const std::string& class_name,
                                         std::vector<std::string> ctor_key,
                                         std::vector<detail::call_arg> args,
                                         std::vector<wire::object_id> nested,
                                         const detail::actor_options& opts) {
  // Until the entry takes them over, the refs in `nested` (refs nested in
  // the arguments and the ref arguments themselves) are ours to release.
  struct release_guard {
    core_worker* self;
    std::vector<wire::object_id>* ids;
    ~release_guard() {
      if (ids != nullptr)
        self->release(*ids);
    }
  } guard{this, &nested};
  auto cls = registry::instance().find_class(class_name);
  if (cls == nullptr)
    throw registration_error("actor class '" + class_name
                             + "' is not registered");
  if (registry::instance().find_constructor(*cls, ctor_key) == nullptr) {
    std::string known;
    for (auto& key : registry::instance().constructor_keys(*cls))
      known += (known.empty() ? "" : ", ") + join_types(key);
    throw invalid_argument_error(
      "actor class '" + class_name + "' has no constructor taking "
      + join_types(ctor_key) + "; registered: " + known);
  }
  wire::actor_spec spec;
  spec.id = next_id();
  spec.class_name = class_name;
  spec.name = opts.name;
  spec.ns = opts.ns ? *opts.ns : cfg_.ns;
  spec.ctor_key = std::move(ctor_key);
  // Constructor arguments given as refs are resolved here, by waiting; the
  // actor entry holds them until the actor is constructed.
  for (auto& arg : args) {
    auto x = make_arg(arg, nested);
    if (x.is_ref) {
      wait({x.ref}, 1, detail::infinite_timeout);
      auto snap = objects_.lookup(x.ref);
      if (snap.st == object_table::state::failed)
        raise(snap.error);
      if (snap.st != object_table::state::ready)
        throw error("constructor argument " + wire::to_string(x.ref)
                    + " is not ready");
      fill_arg(x, snap);
    }
    spec.args.emplace_back(std::move(x));
  }
  spec.resources = make_resources(opts.num_cpus, opts.num_gpus, opts.resources);
  spec.max_concurrency = opts.max_concurrency;
  spec.owner = owner_;
  auto id = spec.id;
  {
    std::lock_guard<std::mutex> lock{actors_mtx_};
    auto& entry = actors_[id];
    entry.class_name = class_name;
    entry.holds = std::move(nested);
    guard.ids = nullptr;
  }
  try {
    ask_gcs<wire::actor_id>(wire::create_atom::value, std::move(spec));
  } catch (...) {
    std::vector<wire::object_id> holds;
    {
      std::lock_guard<std::mutex> lock{actors_mtx_};
      holds = std::move(actors_[id].holds);
      actors_.erase(id);
    }
    release(holds);
    throw;
  }
  return id;
}

std::optional<wire::actor_id>
core_worker::find_actor(const std::string& class_name, const std::string& name,
                        const std::optional<std::string>& ns) {
  auto info = ask_gcs<wire::actor_info>(wire::lookup_atom::value, name,
                                        ns ? *ns : cfg_.ns);
  if (info.id.nil())
    return std::nullopt;
  if (info.class_name != class_name)
    throw invalid_argument_error("actor '" + name + "' is a " + info.class_name
                                 + ", not a " + class_name);
  note_actor(info);
  return info.id;
}

void core_worker::note_actor(const wire::actor_info& info) {
  {
    std::lock_guard<std::mutex> guard{actors_mtx_};
    // The owner actor may have recorded a newer state meanwhile: keep it.
    auto& entry = actors_[info.id];
    entry.class_name = info.class_name;
    if (entry.state != wire::actor_state::dead
        && info.state == wire::actor_state::alive && !objects_.stopped()) {
      entry.state = info.state;
      entry.host = info.host;
    }
  }
  if (info.state == wire::actor_state::dead)
    mark_actor_dead(info.id, info.death);
  else
    flush_actor(info.id);
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
  note_actor(info);
  return {};
}

void core_worker::kill_actor(const wire::actor_id& actor) {
  ask_gcs<bool>(wire::kill_atom::value, actor);
  mark_actor_dead(actor,
                  {wire::error_kind::actor_died, "", "the actor was killed"});
}

} // namespace caraway::core
