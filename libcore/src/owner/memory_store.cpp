#include "memory_store.hpp"

#include <algorithm>
#include <thread>

namespace caraway::owner {

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

void memory_store::wake(wakeups& waiters) {
  for (auto& w : waiters) {
    // The waiter checks its count under `mtx` before it sleeps: taking the
    // lock to notify means the wake-up cannot fall between the two.
    if (w->ready.fetch_add(1, std::memory_order_acq_rel) + 1 != w->needed)
      continue;
    std::lock_guard<std::mutex> guard{w->mtx};
    w->cv.notify_one();
  }
  waiters.clear();
}

void memory_store::add_pending(const wire::object_id& id) {
  std::lock_guard<short_mutex> guard{mtx_};
  entries_.try_emplace(id);
}

void memory_store::put(const wire::object_id& id, wire::buffer_ptr value,
                       bool in_store) {
  waiter_list waiters;
  {
    std::lock_guard<short_mutex> guard{mtx_};
    auto& e = entries_[id];
    e.st = state::ready;
    e.value = std::move(value);
    e.in_store = in_store;
    waiters.swap(e.waiters);
  }
  wake(waiters);
}

void memory_store::add_failed(const wire::object_id& id,
                              wire::error_info error) {
  std::lock_guard<short_mutex> guard{mtx_};
  auto [i, fresh] = entries_.try_emplace(id);
  if (fresh) {
    i->second.st = state::failed;
    i->second.error = std::move(error);
  }
}

template <class F>
bool memory_store::settle(const wire::object_id& id, wakeups* later,
                          F&& set) {
  waiter_list waiters;
  {
    std::lock_guard<short_mutex> guard{mtx_};
    auto i = entries_.find(id);
    if (i == entries_.end() || i->second.st != state::pending)
      return false;
    set(i->second);
    waiters.swap(i->second.waiters);
  }
  if (later != nullptr)
    later->insert(later->end(), waiters.begin(), waiters.end());
  else
    wake(waiters);
  return true;
}

bool memory_store::complete(const wire::object_id& id, wire::buffer_ptr value,
                            bool in_store, std::string location,
                            wakeups* later) {
  return settle(id, later, [&](entry& e) {
    e.st = state::ready;
    e.value = std::move(value);
    e.in_store = in_store;
    e.location = std::move(location);
  });
}

bool memory_store::fail(const wire::object_id& id, wire::error_info error,
                        wakeups* later) {
  return settle(id, later, [&](entry& e) {
    e.st = state::failed;
    e.error = std::move(error);
  });
}

void memory_store::cache(const wire::object_id& id, wire::buffer_ptr value) {
  std::lock_guard<short_mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i != entries_.end() && i->second.st == state::ready && !i->second.value)
    i->second.value = std::move(value);
}

bool memory_store::reopen(const wire::object_id& id) {
  std::lock_guard<short_mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.st == state::pending)
    return false;
  auto& e = i->second;
  e.st = state::pending;
  e.value = nullptr;
  e.in_store = false;
  e.location.clear();
  e.error = {};
  return true;
}

wire::buffer_ptr memory_store::erase(const wire::object_id& id,
                                     bool* in_store, wakeups* later) {
  wire::buffer_ptr value;
  waiter_list waiters;
  {
    std::lock_guard<short_mutex> guard{mtx_};
    auto i = entries_.find(id);
    if (i == entries_.end())
      return nullptr;
    value = std::move(i->second.value);
    if (in_store != nullptr)
      *in_store = i->second.in_store;
    waiters.swap(i->second.waiters);
    entries_.erase(i);
  }
  if (later != nullptr)
    later->insert(later->end(), waiters.begin(), waiters.end());
  else
    wake(waiters);
  return value;
}

wire::buffer_ptr memory_store::ready_value(const wire::object_id& id) const {
  std::lock_guard<short_mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.st != state::ready)
    return nullptr;
  return i->second.value;
}

memory_store::snapshot memory_store::lookup(const wire::object_id& id) const {
  snapshot result;
  std::lock_guard<short_mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end())
    return result;
  auto& e = i->second;
  result.known = true;
  result.st = e.st;
  result.value = e.value;
  result.in_store = e.in_store;
  result.location = e.location;
  if (e.st == state::failed)
    result.error = e.error;
  return result;
}

bool memory_store::pending(const wire::object_id& id) const {
  std::lock_guard<short_mutex> guard{mtx_};
  auto i = entries_.find(id);
  return i != entries_.end() && i->second.st == state::pending;
}

std::vector<bool> memory_store::wait(const std::vector<wire::object_id>& ids,
                                     size_t n,
                                     const clock::time_point* deadline,
                                     const std::function<void()>& on_block,
                                     const std::function<void()>& on_unblock,
                                     std::chrono::nanoseconds spin) {
  std::vector<bool> result(ids.size(), false);
  auto w = std::make_shared<waiter>();
  size_t done = 0;
  {
    std::lock_guard<short_mutex> guard{mtx_};
    for (size_t i = 0; i < ids.size(); ++i) {
      auto j = entries_.find(ids[i]);
      if (j == entries_.end() || j->second.st != state::pending) {
        result[i] = true;
        ++done;
      }
    }
    if (done >= n || stopped_)
      return result;
    w->needed = n - done;
    for (size_t i = 0; i < ids.size(); ++i)
      if (!result[i])
        entries_[ids[i]].waiters.emplace_back(w);
    ++waiting_;
  }
  bool blocked = false;
  {
    auto pred = [&] {
      return done + w->ready.load(std::memory_order_acquire) >= n
             || stopped();
    };
    if (spin.count() > 0 && !pred()) {
      auto until = clock::now() + spin;
      if (deadline != nullptr && *deadline < until)
        until = *deadline;
      do
        cpu_relax();
      while (!pred() && clock::now() < until);
    }
    std::unique_lock<std::mutex> guard{w->mtx};
    if (!pred()) {
      guard.unlock();
      if (on_block)
        on_block();
      blocked = true;
      guard.lock();
      if (deadline != nullptr)
        w->cv.wait_until(guard, *deadline, pred);
      else
        w->cv.wait(guard, pred);
    }
  }
  if (blocked && on_unblock)
    on_unblock();
  std::lock_guard<short_mutex> guard{mtx_};
  --waiting_;
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

void memory_store::shutdown() {
  waiter_list waiters;
  {
    std::lock_guard<short_mutex> guard{mtx_};
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

bool memory_store::stopped() const {
  return stopped_.load();
}

size_t memory_store::size() const {
  std::lock_guard<short_mutex> guard{mtx_};
  return entries_.size();
}

} // namespace caraway::owner
