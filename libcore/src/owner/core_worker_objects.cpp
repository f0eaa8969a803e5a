// The core worker's side of objects: puts, gets and waits, arguments that
// travel by the data path, refs and refs borrowed from other processes.

#include "owner/core_worker.hpp"

#include <caf/all.hpp>

#include "caraway/error.hpp"
#include "errors.hpp"

namespace caraway::owner {

void core_worker::free_objects(std::vector<freed_object>& freed, effects& fx) {
  for (auto& obj : freed) {
    auto& id = obj.id;
    if (wire::is_actor_id(id)) {
      // The last handle to an actor is gone: a borrower tells the creator,
      // the creator ends the actor once its calls are answered.
      if (obj.borrowed && obj.owner)
        fx.releases.emplace_back(obj.owner, id);
      auto entry = obj.borrowed ? nullptr : actors_.find(id);
      if (entry != nullptr && !entry->detached) {
        entry->out_of_scope = true;
        end_if_unused(id, fx);
      }
      continue;
    }
    bool in_store = false;
    // Freed here, under the lock, so that a reader woken later sees the
    // memory back in the store; a value in store memory is let go of after
    // the lock, where giving it back to the store's pool costs no one.
    auto value = memory_.erase(id, &in_store, &fx.wakeups);
    if (in_store)
      fx.garbage.emplace_back(std::move(value));
    auto where = directory_.take(id);
    if (borrower_waits_.erase(id) > 0)
      fx.borrower_ready.push_back(id);
    if (in_store || obj.borrowed || !where.copies.empty()) {
      // A borrower drops only its own copy; an owner the object.
      if (handles_.store) {
        if (obj.borrowed)
          handles_.store->release_copy(id);
        else
          handles_.store->release(id);
      }
      if (!obj.borrowed && where.primary
          && where.primary != handles_.store_actor)
        fx.frees.emplace_back(where.primary, id);
      for (auto& copy : where.copies)
        fx.frees.emplace_back(copy, id);
    }
    if (obj.borrowed && obj.owner)
      fx.releases.emplace_back(obj.owner, id);
    // The task that made it need not run again: its arguments go free.
    if (!obj.borrowed)
      if (auto kept = tasks_.take_lineage(id))
        lineage_release_.insert(lineage_release_.end(), kept->holds.begin(),
                                kept->holds.end());
  }
  freed.clear();
}

void core_worker::remove_ref_locked(const wire::object_id& id, ref_kind kind,
                                    effects& fx) {
  // One list kept across calls: freeing an object is the hot end of a put.
  refs_.remove(id, kind, freed_);
  free_objects(freed_, fx);
  // A freed result lets go of what its lineage held: a loop, not recursion.
  while (!lineage_release_.empty()) {
    auto hold = lineage_release_.back();
    lineage_release_.pop_back();
    refs_.remove(hold, ref_kind::submitted, freed_);
    free_objects(freed_, fx);
  }
}

void core_worker::release_holds(const std::vector<wire::object_id>& holds,
                                effects& fx) {
  for (auto& id : holds)
    remove_ref_locked(id, ref_kind::submitted, fx);
}

void core_worker::count_holds(std::vector<wire::object_id>& holds,
                              std::vector<wire::object_id>& arg_refs) {
  for (auto& id : holds)
    refs_.convert(id, ref_kind::local, ref_kind::submitted);
  for (auto& id : arg_refs) {
    if (!refs_.add(id, ref_kind::submitted)) {
      refs_.add_owned(id, ref_kind::submitted);
      memory_.add_failed(id, {wire::error_kind::object_lost, "",
                              "argument object " + wire::to_string(id)
                                + " is unknown: freed or from another "
                                  "session"});
    }
    holds.emplace_back(id);
  }
  arg_refs.clear();
}

void core_worker::release(std::vector<wire::object_id>& ids) {
  effects fx;
  lock_type lock{mtx_};
  release_holds(ids, fx);
  ids.clear();
  apply(lock, fx);
}

void core_worker::hold_received(const wire::object_id& id, ref_kind kind,
                                const wire::owner_actor& pinned_by,
                                effects& fx) {
  bool fresh = false;
  if (refs_.add(id, kind)) {
    // Held here already.
  } else if (wire::is_actor_id(id)) {
    // An actor handle has no value to wait for; a borrowed one is counted
    // at its creator.
    if (id.hi == worker_id_ || handles_.data_address.empty())
      refs_.add_owned(id, kind);
    else if ((fresh = refs_.add_borrowed(id)))
      refs_.convert(id, ref_kind::local, kind);
  } else if (id.hi == worker_id_ || handles_.data_address.empty()) {
    // A ref to an object this process no longer (or never) knew: nothing
    // will ever complete it, so it fails instead of hanging readers.
    refs_.add_owned(id, kind);
    memory_.add_failed(id, {wire::error_kind::object_lost, "",
                            "object " + wire::to_string(id)
                              + " is unknown: freed or from another session"});
  } else {
    fresh = refs_.add_borrowed(id);
    refs_.convert(id, ref_kind::local, kind);
    if (fresh)
      memory_.add_pending(id);
  }
  if (fresh)
    fx.borrows.emplace_back(id, pinned_by);
  else if (pinned_by && !is_own(pinned_by))
    fx.unpins.emplace_back(pinned_by, id);
}

void core_worker::add_ref(const wire::object_id& id) {
  effects fx;
  lock_type lock{mtx_};
  hold_received(id, ref_kind::local, wire::owner_actor{}, fx);
  apply(lock, fx);
}

void core_worker::remove_ref(const wire::object_id& id) {
  effects fx;
  lock_type lock{mtx_};
  remove_ref_locked(id, ref_kind::local, fx);
  apply(lock, fx);
}

bool core_worker::add_borrower(const wire::object_id& id) {
  std::lock_guard<short_mutex> guard{mtx_};
  return refs_.add(id, ref_kind::borrower);
}

void core_worker::remove_borrower(const wire::object_id& id) {
  effects fx;
  lock_type lock{mtx_};
  remove_ref_locked(id, ref_kind::borrower, fx);
  apply(lock, fx);
}

void core_worker::unpin(const wire::object_id& id) {
  remove_ref(id);
}

bool core_worker::set_borrowed_owner(const wire::object_id& id,
                                     wire::owner_actor owner) {
  std::lock_guard<short_mutex> guard{mtx_};
  return refs_.set_owner(id, std::move(owner));
}

bool core_worker::add_copy(const wire::object_id& id,
                           wire::object_store_actor store) {
  std::lock_guard<short_mutex> guard{mtx_};
  if (!refs_.has(id))
    return false;
  directory_.add_copy(id, std::move(store));
  return true;
}

void core_worker::fail_object(const wire::object_id& id, wire::error_info why) {
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  if (memory_.fail(id, std::move(why), &fx.wakeups))
    note_settled(id, settled);
  settle(settled, fx);
  apply(lock, fx);
}

void core_worker::fail_borrowed_from(const caf::actor_addr& owner,
                                     const wire::error_info& why) {
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  for (auto& id : refs_.borrowed_from(owner))
    if (memory_.fail(id, why, &fx.wakeups))
      note_settled(id, settled);
  settle(settled, fx);
  apply(lock, fx);
}

void core_worker::on_borrowed(wire::task_result& result) {
  effects fx;
  std::vector<wire::object_id> settled;
  lock_type lock{mtx_};
  if (result.error.kind != wire::error_kind::none) {
    if (memory_.fail(result.id, std::move(result.error), &fx.wakeups))
      note_settled(result.id, settled);
  } else if (memory_.complete(result.id, std::move(result.value),
                              result.in_store, std::move(result.location),
                              &fx.wakeups)) {
    // The owner keeps what the value contains alive while this process
    // borrows the value: borrowing them needs no pin.
    for (auto& id : result.contained)
      hold_received(id, ref_kind::contained, wire::owner_actor{}, fx);
    refs_.set_contains(result.id, std::move(result.contained));
    note_settled(result.id, settled);
  }
  settle(settled, fx);
  apply(lock, fx);
}

wire::task_result core_worker::describe(const wire::object_id& id) {
  wire::task_result result;
  result.id = id;
  auto snap = memory_.lookup(id);
  if (!snap.known) {
    result.error
      = {wire::error_kind::object_lost, "",
         "object " + wire::to_string(id) + " was freed by its owner"};
  } else if (snap.st == memory_store::state::failed) {
    result.error = std::move(snap.error);
  } else {
    result.in_store = snap.in_store;
    result.value = std::move(snap.value);
    if (snap.in_store)
      result.location = snap.location.empty() ? handles_.data_address
                                              : std::move(snap.location);
    std::lock_guard<short_mutex> guard{mtx_};
    result.contained = refs_.contains(id);
  }
  return result;
}

bool core_worker::await_for_borrower(const wire::object_id& id) {
  std::lock_guard<short_mutex> guard{mtx_};
  if (!memory_.pending(id))
    return false;
  borrower_waits_.insert(id);
  return true;
}

void core_worker::note_copy(const wire::owner_actor& owner,
                            const wire::object_id& id) {
  // This process frees its own copy when it lets go of the object.
  if (!owner || is_own(owner)
      || !handles_.store_actor)
    return;
  caf::anon_send(owner, wire::located_atom::value, id, handles_.store_actor);
}

wire::buffer_ptr core_worker::fetch(const wire::object_id& id,
                                    const std::string& address,
                                    std::string& why, bool* pulled,
                                    memory_store::clock::time_point deadline) {
  if (!handles_.puller) {
    why = "object " + wire::to_string(id) + " is in another process, and "
          + "this one has no data path";
    return nullptr;
  }
  return handles_.puller->fetch(id, address, why, pulled, deadline);
}

wire::task_arg core_worker::make_arg(detail::call_arg& arg,
                                     std::vector<wire::object_id>& holds,
                                     std::vector<wire::object_id>& arg_refs) {
  wire::task_arg x;
  x.is_ref = arg.is_ref;
  x.ref = arg.ref;
  if (arg.is_ref) {
    arg_refs.emplace_back(arg.ref);
  } else if (arg.in_store && !handles_.data_address.empty()) {
    // put() hands its one ref to `holds`: freed when the task is done.
    x.is_ref = true;
    x.ref = put(std::move(arg.value), true, {});
    holds.emplace_back(x.ref);
  } else {
    x.value = std::move(arg.value);
    x.in_store = arg.in_store;
  }
  return x;
}

void core_worker::fill_arg(wire::task_arg& arg, memory_store::snapshot& snap) {
  arg.in_store = snap.in_store;
  arg.value = std::move(snap.value);
  if (snap.in_store && !handles_.data_address.empty())
    arg.location = snap.location.empty() ? handles_.data_address
                                         : std::move(snap.location);
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
  std::lock_guard<short_mutex> guard{mtx_};
  refs_.add_owned(id, ref_kind::local, /*put=*/true);
  // The refs collected while serializing the value are its content now.
  if (!nested.empty()) {
    for (auto& inner : nested)
      refs_.convert(inner, ref_kind::local, ref_kind::contained);
    refs_.set_contains(id, std::move(nested));
  }
  memory_.put(id, std::move(value), in_store);
  return id;
}

namespace {

// How deep tasks run inside tasks waiting for them on this thread: bounded,
// so that a deep recursion of tasks does not exhaust the thread's stack.
thread_local uint32_t inline_depth = 0;
constexpr uint32_t max_inline_depth = 64;

// Fits within what any waiting task holds: CPU only, at most one, placed by
// the default strategy.
bool fits_waiting_task(const wire::task_spec& spec) {
  if (!spec.actor.nil() || spec.scheduling != wire::strategy::hybrid)
    return false;
  for (auto& [name, amount] : spec.resources)
    if (name != "CPU" || amount > 1)
      return false;
  return true;
}

} // namespace

void core_worker::run_queued_here(const std::vector<wire::object_id>& ids,
                                  const node::worker_context& worker) {
  if (!run_inline_ || inline_depth >= max_inline_depth)
    return;
  for (auto& id : ids) {
    {
      lock_type lock{mtx_};
      auto task = tasks_.find(id);
      // Sent but not leased yet: queued in the submitter (which says for
      // sure below).
      if (task == nullptr || !task->sent || task->lease != 0
          || !fits_waiting_task(task->spec))
        continue;
    }
    wire::task_spec spec;
    with_scoped_actor(sys_, [&](caf::scoped_actor& self) {
      self
        ->request(service_, std::chrono::milliseconds(cfg_.request_timeout_ms),
                  take_atom::value, id)
        .receive([&](wire::task_spec& x) { spec = std::move(x); },
                 [](caf::error&) {});
    });
    if (spec.id.nil())
      continue;
    ++inline_depth;
    run_inline_(spec, worker);
    --inline_depth;
  }
}

std::vector<bool> core_worker::wait(const std::vector<wire::object_id>& ids,
                                    size_t n, detail::timeout_type timeout) {
  memory_store::clock::time_point deadline;
  const memory_store::clock::time_point* deadline_ptr = nullptr;
  if (timeout.count() >= 0) {
    deadline = memory_store::clock::now() + timeout;
    deadline_ptr = &deadline;
  }
  auto ctx = current_context();
  const node::worker_context* worker = ctx != nullptr ? ctx->worker : nullptr;
  std::function<void()> on_block;
  std::function<void()> on_unblock;
  if (worker != nullptr && !ctx->task.nil() && n == ids.size()
      && timeout.count() < 0)
    run_queued_here(ids, *worker);
  if (worker != nullptr) {
    on_block = [worker] { worker->blocked(); };
    on_unblock = [worker] { worker->unblocked(); };
  }
  // Only driver threads spin: a blocked task gives its CPU back instead.
  auto spin = ctx == nullptr ? std::chrono::microseconds(cfg_.get_spin_us)
                             : std::chrono::microseconds(0);
  return memory_.wait(ids, n, deadline_ptr, on_block, on_unblock, spin);
}

wire::buffer_ptr
core_worker::value_of(const wire::object_id& id,
                      memory_store::clock::time_point deadline) {
  // Each round that finds the only copy lost runs its task again, which
  // uses up one of its retries: the loop ends.
  for (;;) {
    auto snap = memory_.lookup(id);
    if (!snap.known)
      throw object_lost_error("object " + wire::to_string(id)
                              + " is unknown: freed or never created");
    if (snap.st == memory_store::state::failed)
      core::raise(snap.error);
    if (snap.st == memory_store::state::pending)
      throw error("object " + wire::to_string(id) + " is not ready");
    if (snap.value || snap.location.empty())
      return snap.value;
    std::string why;
    auto value = fetch(id, snap.location, why, nullptr, deadline);
    if (value) {
      memory_.cache(id, value);
      return value;
    }
    auto timed_out = [&] {
      return timeout_error("get timed out pulling object "
                           + wire::to_string(id) + ": " + why);
    };
    if (memory_store::clock::now() >= deadline)
      throw timed_out();
    if (!rebuild(id, snap.location, why)) {
      // Failed for good now, unless someone else rebuilds it.
      if (!wait({id}, 1, until(deadline))[0])
        throw timed_out();
      continue;
    }
    if (!wait({id}, 1, until(deadline))[0])
      throw timeout_error("get timed out while object " + wire::to_string(id)
                          + " is made again: " + why);
  }
}

} // namespace caraway::owner
