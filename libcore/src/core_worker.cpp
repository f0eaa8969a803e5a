#include "core_worker.hpp"

#include <random>

#include <caf/all.hpp>

#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "errors.hpp"
#include "registry.hpp"

namespace caraway::core {

namespace {

thread_local thread_context* tls_context = nullptr;

uint64_t random_worker_id() {
  std::random_device rd;
  uint64_t result = 0;
  while (result == 0)
    result = (static_cast<uint64_t>(rd()) << 32) | rd();
  return result;
}

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

wire::resource_set make_resources(double cpus, double gpus,
                                  const detail::resource_map& custom) {
  wire::resource_set result{custom.begin(), custom.end()};
  if (cpus > 0)
    result["CPU"] = cpus;
  if (gpus > 0)
    result["GPU"] = gpus;
  return result;
}

} // namespace

thread_context* current_context() {
  return tls_context;
}

context_guard::context_guard(thread_context* ctx) : prev_(tls_context) {
  tls_context = ctx;
}

context_guard::~context_guard() {
  tls_context = prev_;
}

core_worker::core_worker(caf::actor_system& sys, const config& cfg)
  : sys_(sys),
    cfg_(cfg),
    worker_id_(random_worker_id()),
    objects_([this](const wire::object_id& id, const object_location& where) {
      auto store = [](const caf::actor& x) {
        return caf::actor_cast<wire::object_store_actor>(x);
      };
      std::vector<wire::object_id> ids{id};
      // A borrower drops only its own copy; an owner the object.
      if (handles_.store) {
        if (where.borrowed)
          handles_.store->release_copy(id);
        else
          handles_.store->release(id);
      }
      if (!where.borrowed && where.store && where.store != handles_.store_actor)
        caf::anon_send(store(where.store), wire::free_atom::value, ids);
      for (auto& copy : where.copies)
        caf::anon_send(store(copy), wire::free_atom::value, ids);
      if (where.borrowed && where.owner)
        caf::anon_send(caf::actor_cast<wire::owner_actor>(where.owner),
                       wire::release_atom::value, id);
    }) {
  // nop
}

core_worker::~core_worker() {
  // nop
}

void core_worker::connect(cluster_handles handles) {
  handles_ = std::move(handles);
  owner_ = caf::actor_cast<caf::actor>(handles_.owner);
  // Borrowers of this process' objects find its owner through the gcs.
  if (handles_.gcs)
    caf::anon_send(handles_.gcs, wire::owner_atom::value, worker_id_,
                   handles_.owner);
}

wire::object_id core_worker::next_id() {
  return {worker_id_, next_seq_.fetch_add(1, std::memory_order_relaxed)};
}

void core_worker::add_ref(const wire::object_id& id) {
  if (objects_.add_ref_known(id))
    return;
  if (id.hi == worker_id_ || handles_.data_address.empty()) {
    objects_.add_ref(id); // fails as object_lost: nobody can make it now
    return;
  }
  hold_received(id, nullptr);
}

void core_worker::hold_received(const wire::object_id& id,
                                const caf::actor& pinned_by) {
  bool fresh = false;
  if (objects_.add_ref_known(id)) {
    // Held here already.
  } else if (id.hi == worker_id_) {
    objects_.add_ref(id);
  } else {
    fresh = objects_.add_borrowed(id);
  }
  if (fresh)
    caf::anon_send(owner_, wire::borrow_atom::value, id, pinned_by);
  else if (pinned_by && pinned_by != owner_)
    caf::anon_send(caf::actor_cast<wire::owner_actor>(pinned_by),
                   wire::release_atom::value, id);
}

void core_worker::on_borrowed(wire::task_result& result) {
  if (result.error.kind != wire::error_kind::none) {
    objects_.fail(result.id, std::move(result.error));
    return;
  }
  // The owner keeps what the value contains alive while this process
  // borrows the value: borrowing them needs no pin.
  for (auto& id : result.contained)
    add_ref(id);
  objects_.complete(result.id, std::move(result.value), result.in_store,
                    std::move(result.contained),
                    {std::move(result.location), nullptr});
}

wire::task_result core_worker::describe(const wire::object_id& id) {
  wire::task_result result;
  result.id = id;
  auto snap = objects_.lookup(id);
  if (!snap.known) {
    result.error
      = {wire::error_kind::object_lost, "",
         "object " + wire::to_string(id) + " was freed by its owner"};
  } else if (snap.st == object_table::state::failed) {
    result.error = std::move(snap.error);
  } else {
    result.in_store = snap.in_store;
    result.value = std::move(snap.value);
    if (snap.in_store)
      result.location = snap.location.empty() ? handles_.data_address
                                              : std::move(snap.location);
    result.contained = std::move(snap.contains);
  }
  return result;
}

void core_worker::note_copy(const caf::actor& owner,
                            const wire::object_id& id) {
  // This process frees its own copy when it lets go of the object.
  if (!owner || owner == owner_ || !handles_.store_actor)
    return;
  caf::anon_send(caf::actor_cast<wire::owner_actor>(owner),
                 wire::located_atom::value, id, handles_.store_actor);
}

void core_worker::release(std::vector<wire::object_id>& ids) {
  for (auto& id : ids)
    objects_.remove_ref(id);
  ids.clear();
}

wire::buffer_ptr core_worker::fetch(const wire::object_id& id,
                                    const std::string& address,
                                    std::string& why, bool* pulled) {
  if (!handles_.puller) {
    why = "object " + wire::to_string(id) + " is in another process, and "
          + "this one has no data path";
    return nullptr;
  }
  return handles_.puller->fetch(id, address, why, pulled);
}

wire::task_arg core_worker::make_arg(detail::call_arg& arg,
                                     std::vector<wire::object_id>& holds) {
  wire::task_arg x;
  x.is_ref = arg.is_ref;
  x.ref = arg.ref;
  if (arg.is_ref) {
    objects_.add_ref(arg.ref);
    holds.emplace_back(arg.ref);
  } else if (arg.in_store && !handles_.data_address.empty()) {
    // put() hands the one ref to `holds`: freed when the task is done.
    x.is_ref = true;
    x.ref = put(std::move(arg.value), true, {});
    holds.emplace_back(x.ref);
  } else {
    x.value = std::move(arg.value);
    x.in_store = arg.in_store;
  }
  return x;
}

void core_worker::fill_arg(wire::task_arg& arg, object_table::snapshot& snap) {
  arg.in_store = snap.in_store;
  arg.value = std::move(snap.value);
  if (snap.in_store && !handles_.data_address.empty())
    arg.location = snap.location.empty() ? handles_.data_address
                                         : std::move(snap.location);
}

void core_worker::add_task(wire::task_spec spec,
                           std::vector<detail::call_arg>& args,
                           std::vector<wire::object_id> nested) {
  pending_task task;
  task.holds = std::move(nested);
  task.actor = spec.actor;
  spec.args.reserve(args.size());
  for (auto& arg : args)
    spec.args.emplace_back(make_arg(arg, task.holds));
  task.spec = std::move(spec);
  auto id = task.spec.id;
  objects_.add_pending(id);
  std::lock_guard<std::mutex> guard{tasks_mtx_};
  tasks_.emplace(id, std::move(task));
}

wire::object_id core_worker::resolve(pending_task& task,
                                     wire::error_info& err) {
  for (auto& arg : task.spec.args) {
    if (!arg.is_ref || arg.value || !arg.location.empty())
      continue;
    auto snap = objects_.lookup(arg.ref);
    if (!snap.known) {
      err = {wire::error_kind::object_lost, "",
             "argument object " + wire::to_string(arg.ref) + " is unknown"};
      return {};
    }
    switch (snap.st) {
      case object_table::state::pending:
        return arg.ref;
      case object_table::state::failed:
        err = snap.error;
        return {};
      case object_table::state::ready:
        fill_arg(arg, snap);
        break;
    }
  }
  return {};
}

// Takes the spec to send: moved when no retry may need it again.
static wire::task_spec take_spec(wire::task_spec& spec) {
  if (spec.max_retries > 0)
    return spec;
  return std::move(spec);
}

void core_worker::try_submit(const wire::task_id& id) {
  for (;;) {
    wire::task_spec to_send;
    wire::error_info err;
    {
      std::lock_guard<std::mutex> guard{tasks_mtx_};
      auto i = tasks_.find(id);
      if (i == tasks_.end() || i->second.sent)
        return;
      auto waiting = resolve(i->second, err);
      if (err.kind == wire::error_kind::none) {
        if (!waiting.nil()) {
          if (objects_.on_ready(waiting, [this, id] { try_submit(id); }))
            return;
          continue; // ready by now: resolve again
        }
        i->second.sent = true;
        to_send = take_spec(i->second.spec);
      }
    }
    if (err.kind != wire::error_kind::none)
      fail_task(id, std::move(err));
    else
      caf::anon_send(handles_.raylet, wire::submit_atom::value,
                     std::move(to_send));
    return;
  }
}

wire::object_id core_worker::submit_task(const std::string& function,
                                         std::vector<detail::call_arg> args,
                                         std::vector<wire::object_id> nested,
                                         const detail::task_options& opts) {
  wire::task_spec spec;
  spec.id = next_id();
  spec.function = function;
  spec.resources = make_resources(opts.num_cpus, opts.num_gpus, opts.resources);
  auto ctx = current_context();
  spec.depth = ctx != nullptr ? ctx->depth + 1 : 0;
  spec.max_retries = opts.max_retries;
  spec.retry_exceptions = opts.retry_exceptions;
  spec.owner = owner_;
  auto id = spec.id;
  add_task(std::move(spec), args, std::move(nested));
  try_submit(id);
  return id;
}

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

void core_worker::fail_task(const wire::task_id& id, wire::error_info err) {
  pending_task task;
  {
    std::lock_guard<std::mutex> guard{tasks_mtx_};
    auto i = tasks_.find(id);
    if (i == tasks_.end())
      return;
    task = std::move(i->second);
    tasks_.erase(i);
  }
  // Arguments go first, so that a reader woken by the result sees them freed.
  release(task.holds);
  objects_.fail(id, std::move(err));
  if (!task.actor.nil()) {
    std::lock_guard<std::mutex> guard{actors_mtx_};
    auto i = actors_.find(task.actor);
    if (i != actors_.end())
      i->second.in_flight.erase(id);
  }
}

void core_worker::on_result(wire::task_result& result) {
  pending_task task;
  bool known = false;
  bool retry = false;
  {
    std::lock_guard<std::mutex> guard{tasks_mtx_};
    auto i = tasks_.find(result.id);
    if (i != tasks_.end()) {
      known = true;
      auto& t = i->second;
      if (result.error.kind == wire::error_kind::task_failed && t.actor.nil()
          && t.spec.retry_exceptions && t.attempts < t.spec.max_retries) {
        ++t.attempts;
        t.sent = false;
        retry = true;
      } else {
        task = std::move(t);
        tasks_.erase(i);
      }
    }
  }
  if (retry) {
    CARAWAY_LOG(info, owner)
      << "retrying task" << log::kv("id", wire::to_string(result.id));
    try_submit(result.id);
    return;
  }
  // Refs in a value from another process: held here from now on, and the
  // sender, which kept them alive meanwhile, lets go.
  if (result.sender && result.sender != owner_)
    for (auto& id : result.contained)
      hold_received(id, result.sender);
  // Arguments go first, so that a reader woken by the result sees them freed.
  release(task.holds);
  if (result.error.kind != wire::error_kind::none) {
    objects_.fail(result.id, std::move(result.error));
  } else {
    objects_.complete(result.id, std::move(result.value), result.in_store,
                      std::move(result.contained),
                      {std::move(result.location), std::move(result.store)});
  }
  if (known && !task.actor.nil()) {
    std::lock_guard<std::mutex> guard{actors_mtx_};
    auto i = actors_.find(task.actor);
    if (i != actors_.end())
      i->second.in_flight.erase(result.id);
  }
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

wire::buffer_ptr core_worker::allocate(size_t size, bool& in_store) {
  if (size >= cfg_.inline_threshold && handles_.store) {
    auto buf = handles_.store->allocate(size);
    if (!buf) {
      auto st = handles_.store->get_stats();
      throw object_store_full_error(
        "the object store has no room for " + std::to_string(size)
        + " bytes: " + std::to_string(st.used_bytes) + " of "
        + std::to_string(st.capacity_bytes) + " bytes in use");
    }
    in_store = true;
    return buf;
  }
  in_store = false;
  return std::make_shared<wire::buffer>(size);
}

wire::object_id core_worker::put(wire::buffer_ptr value, bool in_store,
                                 std::vector<wire::object_id> nested) {
  auto id = next_id();
  if (in_store)
    handles_.store->seal(id, value);
  objects_.add_ready(id, std::move(value), in_store, std::move(nested));
  return id;
}

std::vector<bool> core_worker::wait(const std::vector<wire::object_id>& ids,
                                    size_t n, detail::timeout_type timeout) {
  object_table::clock::time_point deadline;
  const object_table::clock::time_point* deadline_ptr = nullptr;
  if (timeout.count() >= 0) {
    deadline = object_table::clock::now() + timeout;
    deadline_ptr = &deadline;
  }
  auto ctx = current_context();
  auto on_block = [ctx] {
    if (ctx == nullptr || !ctx->raylet)
      return;
    caf::anon_send(ctx->raylet, wire::blocked_atom::value, ctx->lease);
    // Tasks batched behind this one must not wait for it.
    if (ctx->backlog != nullptr) {
      for (auto& spec : *ctx->backlog)
        caf::anon_send(ctx->raylet, wire::submit_atom::value, std::move(spec));
      ctx->backlog->clear();
    }
  };
  auto on_unblock = [ctx] {
    if (ctx != nullptr && ctx->raylet)
      caf::anon_send(ctx->raylet, wire::unblocked_atom::value, ctx->lease);
  };
  // Only driver threads spin: a blocked task gives its CPU back instead.
  auto spin = ctx == nullptr ? std::chrono::microseconds(cfg_.get_spin_us)
                             : std::chrono::microseconds(0);
  return objects_.wait(ids, n, deadline_ptr, on_block, on_unblock, spin);
}

wire::buffer_ptr core_worker::value_of(const wire::object_id& id) {
  auto snap = objects_.lookup(id);
  if (!snap.known)
    throw object_lost_error("object " + wire::to_string(id)
                            + " is unknown: freed or never created");
  if (snap.st == object_table::state::failed)
    raise(snap.error);
  if (snap.st == object_table::state::pending)
    throw error("object " + wire::to_string(id) + " is not ready");
  if (!snap.value && !snap.location.empty()) {
    std::string why;
    snap.value = fetch(id, snap.location, why);
    if (!snap.value)
      throw object_lost_error(why);
    objects_.cache_value(id, snap.value);
  }
  return snap.value;
}

void core_worker::shutdown() {
  // A detached actor's thread lives until the last handle to it is gone.
  std::lock_guard<std::mutex> guard{actors_mtx_};
  objects_.shutdown();
  for (auto& kvp : actors_)
    kvp.second.host = nullptr;
}

} // namespace caraway::core
