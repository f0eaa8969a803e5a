#include "object_table.hpp"

#include <caf/actor_addr.hpp>

#include <algorithm>
#include <deque>
#include <thread>

namespace caraway::core {

namespace {

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  for (int i = 0; i < 64; ++i)
    __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

} // namespace

object_table::object_table(release_fn on_store_release)
  : on_store_release_(std::move(on_store_release)) {
  // nop
}

void object_table::add_pending(const wire::object_id& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = entries_[id];
  e.refs += 1;
}

void object_table::add_ready(const wire::object_id& id, wire::buffer_ptr value,
                             bool in_store,
                             std::vector<wire::object_id> contains) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& e = entries_[id];
  e.st = state::ready;
  e.value = std::move(value);
  e.in_store = in_store;
  e.contains = std::move(contains);
  e.refs += 1;
}

void object_table::finish(entry& e,
                          std::vector<std::shared_ptr<waiter>>& waiters,
                          std::vector<std::function<void()>>& callbacks) {
  waiters.swap(e.waiters);
  callbacks.swap(e.callbacks);
}

void object_table::notify(std::vector<std::shared_ptr<waiter>>& waiters,
                          std::vector<std::function<void()>>& callbacks) {
  for (auto& w : waiters) {
    std::lock_guard<std::mutex> guard{w->mtx};
    ++w->ready;
    w->cv.notify_one();
  }
  // A callback may finish more objects and so trigger more callbacks (a
  // failed task fails the tasks waiting on it). Run them from a queue in the
  // outermost call instead of recursing, or a long dependency chain
  // overflows the stack.
  thread_local std::deque<std::function<void()>>* pending = nullptr;
  if (pending != nullptr) {
    for (auto& f : callbacks)
      pending->emplace_back(std::move(f));
    return;
  }
  std::deque<std::function<void()>> queue{
    std::make_move_iterator(callbacks.begin()),
    std::make_move_iterator(callbacks.end())};
  pending = &queue;
  while (!queue.empty()) {
    auto f = std::move(queue.front());
    queue.pop_front();
    try {
      f();
    } catch (...) {
      pending = nullptr;
      throw;
    }
  }
  pending = nullptr;
}

bool object_table::complete(const wire::object_id& id, wire::buffer_ptr value,
                            bool in_store,
                            std::vector<wire::object_id> contains,
                            object_location where) {
  std::vector<std::shared_ptr<waiter>> waiters;
  std::vector<std::function<void()>> callbacks;
  bool kept = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = entries_.find(id);
    if (i == entries_.end() || i->second.st != state::pending) {
      // Nobody wants the value any more (or it came twice).
    } else {
      auto& e = i->second;
      e.st = state::ready;
      e.value = std::move(value);
      e.in_store = in_store;
      // What the entry knew of its owner and copies stays.
      where.borrowed = e.where.borrowed;
      if (!where.owner)
        where.owner = std::move(e.where.owner);
      where.copies.insert(where.copies.end(), e.where.copies.begin(),
                          e.where.copies.end());
      e.where = std::move(where);
      e.contains = std::move(contains);
      finish(e, waiters, callbacks);
      contains.clear();
      kept = true;
    }
  }
  // Unless they moved into the entry, the value and what it contains belong
  // to nobody.
  if (!kept && in_store)
    on_store_release_(id, where);
  release_all(std::move(contains));
  notify(waiters, callbacks);
  return kept;
}

void object_table::fail(const wire::object_id& id, wire::error_info error) {
  std::vector<std::shared_ptr<waiter>> waiters;
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = entries_.find(id);
    if (i == entries_.end() || i->second.st != state::pending)
      return;
    auto& e = i->second;
    e.st = state::failed;
    e.error = std::move(error);
    finish(e, waiters, callbacks);
  }
  notify(waiters, callbacks);
}

void object_table::add_ref(const wire::object_id& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto [i, fresh] = entries_.try_emplace(id);
  if (fresh) {
    // A ref to an object this process no longer (or never) knew: nothing
    // will ever complete it, so it fails instead of hanging readers.
    i->second.st = state::failed;
    i->second.error = {wire::error_kind::object_lost, "",
                       "object " + wire::to_string(id)
                         + " is unknown: freed or from another session"};
  }
  i->second.refs += 1;
}

bool object_table::add_ref_known(const wire::object_id& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return false;
  i->second.refs += 1;
  return true;
}

bool object_table::add_borrowed(const wire::object_id& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto [i, fresh] = entries_.try_emplace(id);
  i->second.refs += 1;
  if (fresh)
    i->second.where.borrowed = true;
  return fresh;
}

bool object_table::set_owner(const wire::object_id& id, caf::actor owner) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return false;
  i->second.where.owner = std::move(owner);
  return true;
}

bool object_table::add_copy(const wire::object_id& id, caf::actor store) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return false;
  i->second.where.copies.emplace_back(std::move(store));
  return true;
}

void object_table::fail_borrowed_from(const caf::actor_addr& owner,
                                      const wire::error_info& why) {
  std::vector<wire::object_id> victims;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [id, e] : entries_)
      if (e.st == state::pending && e.where.owner
          && e.where.owner.address() == owner)
        victims.push_back(id);
  }
  for (auto& id : victims)
    fail(id, why);
}

void object_table::remove_ref(const wire::object_id& id) {
  release_all({id});
}

void object_table::release_all(std::vector<wire::object_id> ids) {
  std::vector<std::pair<wire::object_id, object_location>> store_ids;
  std::vector<wire::buffer_ptr> values; // freed outside the lock
  std::vector<std::shared_ptr<waiter>> waiters;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    while (!ids.empty()) {
      auto id = ids.back();
      ids.pop_back();
      auto i = entries_.find(id);
      if (i == entries_.end() || --i->second.refs > 0)
        continue;
      auto& e = i->second;
      if (e.in_store || e.where.borrowed || !e.where.copies.empty())
        store_ids.emplace_back(id, std::move(e.where));
      values.emplace_back(std::move(e.value));
      ids.insert(ids.end(), e.contains.begin(), e.contains.end());
      // A waiter of a freed object gives up; it no longer holds a ref.
      waiters.insert(waiters.end(), e.waiters.begin(), e.waiters.end());
      entries_.erase(i);
    }
  }
  for (auto& [id, where] : store_ids)
    on_store_release_(id, where);
  std::vector<std::function<void()>> none;
  notify(waiters, none);
}

object_table::snapshot object_table::lookup(const wire::object_id& id) const {
  snapshot result;
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return result;
  auto& e = i->second;
  result.known = true;
  result.st = e.st;
  result.value = e.value;
  result.in_store = e.in_store;
  result.location = e.where.address;
  if (e.st == state::ready)
    result.contains = e.contains;
  if (e.st == state::failed)
    result.error = e.error;
  return result;
}

void object_table::cache_value(const wire::object_id& id,
                               wire::buffer_ptr value) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i != entries_.end() && i->second.st == state::ready && !i->second.value)
    i->second.value = std::move(value);
}

bool object_table::on_ready(const wire::object_id& id,
                            std::function<void()> fn) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.st != state::pending)
    return false;
  i->second.callbacks.emplace_back(std::move(fn));
  return true;
}

std::vector<bool> object_table::wait(const std::vector<wire::object_id>& ids,
                                     size_t n,
                                     const clock::time_point* deadline,
                                     const std::function<void()>& on_block,
                                     const std::function<void()>& on_unblock,
                                     std::chrono::nanoseconds spin) {
  std::vector<bool> result(ids.size(), false);
  auto w = std::make_shared<waiter>();
  size_t done = 0;
  bool registered = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (size_t i = 0; i < ids.size(); ++i) {
      auto j = entries_.find(ids[i]);
      if (j == entries_.end() || j->second.st != state::pending) {
        result[i] = true;
        ++done;
      }
    }
    if (done >= n || stopped_)
      return result;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!result[i]) {
        entries_[ids[i]].waiters.emplace_back(w);
        registered = true;
      }
    }
  }
  if (!registered)
    return result;
  bool blocked = false;
  {
    std::unique_lock<std::mutex> guard{w->mtx};
    auto pred = [&] { return done + w->ready >= n || stopped(); };
    if (spin.count() > 0 && !pred()) {
      auto until = clock::now() + spin;
      if (deadline != nullptr && *deadline < until)
        until = *deadline;
      do {
        guard.unlock();
        cpu_relax();
        guard.lock();
      } while (!pred() && clock::now() < until);
    }
    if (!pred()) {
      guard.unlock();
      on_block();
      blocked = true;
      guard.lock();
      if (deadline != nullptr)
        w->cv.wait_until(guard, *deadline, pred);
      else
        w->cv.wait(guard, pred);
    }
  }
  if (blocked)
    on_unblock();
  std::lock_guard<std::mutex> guard{mtx_};
  for (size_t i = 0; i < ids.size(); ++i) {
    if (result[i])
      continue;
    auto j = entries_.find(ids[i]);
    if (j == entries_.end() || j->second.st != state::pending) {
      result[i] = true;
    } else {
      auto& ws = j->second.waiters;
      ws.erase(std::remove(ws.begin(), ws.end(), w), ws.end());
    }
  }
  return result;
}

void object_table::shutdown() {
  std::vector<std::shared_ptr<waiter>> waiters;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopped_ = true;
    for (auto& kvp : entries_)
      waiters.insert(waiters.end(), kvp.second.waiters.begin(),
                     kvp.second.waiters.end());
  }
  for (auto& w : waiters) {
    std::lock_guard<std::mutex> guard{w->mtx};
    w->cv.notify_all();
  }
}

bool object_table::stopped() const {
  return stopped_.load();
}

size_t object_table::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return entries_.size();
}

} // namespace caraway::core
