#include "core_worker.hpp"

#include <random>

#include <caf/all.hpp>

#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "errors.hpp"
#include "registry.hpp"
#include "spec_helpers.hpp"

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

void core_worker::release(std::vector<wire::object_id>& ids) {
  for (auto& id : ids)
    objects_.remove_ref(id);
  ids.clear();
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

void core_worker::shutdown() {
  // A detached actor's thread lives until the last handle to it is gone.
  std::lock_guard<std::mutex> guard{actors_mtx_};
  objects_.shutdown();
  for (auto& kvp : actors_)
    kvp.second.host = nullptr;
}

} // namespace caraway::core
