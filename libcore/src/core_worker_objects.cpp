// The core worker's side of objects: puts, gets and waits, arguments that
// travel by the data path, and refs borrowed from other processes.

#include "core_worker.hpp"

#include <caf/all.hpp>

#include "caraway/error.hpp"
#include "errors.hpp"

namespace caraway::core {

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

} // namespace caraway::core
