#include "caraway/node/store_memory.hpp"

#include <map>
#include <vector>

namespace caraway::node {

struct store_memory::pool {
  std::mutex mtx;
  uint64_t capacity;
  uint64_t pool_limit;
  uint64_t used = 0;                 // capacity of buffers handed out
  uint64_t pooled = 0;               // capacity of buffers kept for reuse
  std::multimap<size_t, char*> free; // capacity -> memory

  ~pool() {
    for (auto& kvp : free)
      delete[] kvp.second;
  }

  // Gives a buffer back; keeps it for reuse while the pool has room.
  void give_back(char* data, size_t cap) {
    std::unique_lock<std::mutex> guard{mtx};
    used -= cap;
    if (pooled + cap <= pool_limit) {
      free.emplace(cap, data);
      pooled += cap;
      return;
    }
    guard.unlock();
    delete[] data;
  }
};

store_memory::store_memory(uint64_t capacity, uint64_t pool_limit)
  : pool_(std::make_shared<pool>()) {
  pool_->capacity = capacity;
  pool_->pool_limit = pool_limit;
}

store_memory::~store_memory() = default;

wire::buffer_ptr store_memory::allocate(size_t size) {
  for (;;) {
    if (auto buf = try_allocate(size))
      return buf;
    // Memory of an evicted copy returns once its last reader lets go; a
    // copy in use frees nothing now, so try the next one.
    if (!evict_one())
      return nullptr;
  }
}

bool store_memory::evict_one() {
  wire::buffer_ptr victim;
  std::lock_guard<std::mutex> guard{table_mtx_};
  while (!secondaries_.empty()) {
    auto id = secondaries_.front();
    secondaries_.pop_front();
    auto i = table_.find(id);
    if (i != table_.end() && !i->second.primary) {
      victim = std::move(i->second.buf);
      table_.erase(i);
      return true;
    }
  }
  return false;
}

wire::buffer_ptr store_memory::try_allocate(size_t size) {
  char* data = nullptr;
  size_t cap = 0;
  std::vector<char*> drop;
  {
    std::lock_guard<std::mutex> guard{pool_->mtx};
    auto& p = *pool_;
    // Best fit among pooled buffers, wasting at most a quarter.
    auto i = p.free.lower_bound(size);
    if (i != p.free.end() && i->first <= size + size / 4) {
      cap = i->first;
      data = i->second;
      p.free.erase(i);
      p.pooled -= cap;
    } else {
      if (p.used + size > p.capacity)
        return nullptr;
      // Keep used plus pooled memory within the cap: drop the largest
      // pooled buffers first.
      while (!p.free.empty() && p.used + p.pooled + size > p.capacity) {
        auto last = std::prev(p.free.end());
        p.pooled -= last->first;
        drop.push_back(last->second);
        p.free.erase(last);
      }
      cap = size;
    }
    p.used += cap;
  }
  for (auto ptr : drop)
    delete[] ptr;
  if (data == nullptr)
    data = new char[cap > 0 ? cap : 1];
  auto weak = std::weak_ptr<pool>{pool_};
  return std::make_shared<wire::buffer>(data, size,
                                        [weak, cap](char* ptr, size_t) {
                                          if (auto p = weak.lock())
                                            p->give_back(ptr, cap);
                                          else
                                            delete[] ptr;
                                        });
}

void store_memory::seal(const wire::object_id& id, wire::buffer_ptr buf,
                        bool primary) {
  wire::buffer_ptr old;
  std::lock_guard<std::mutex> guard{table_mtx_};
  auto& e = table_[id];
  old = std::move(e.buf);
  e.buf = std::move(buf);
  e.primary = primary;
  if (primary)
    return;
  secondaries_.push_back(id);
  // Released copies leave stale ids behind: drop them now and then.
  if (secondaries_.size() > 2 * table_.size() + 64) {
    std::deque<wire::object_id> live;
    for (auto& x : secondaries_) {
      auto i = table_.find(x);
      if (i != table_.end() && !i->second.primary)
        live.push_back(x);
    }
    secondaries_.swap(live);
  }
}

wire::buffer_ptr store_memory::get(const wire::object_id& id) const {
  std::lock_guard<std::mutex> guard{table_mtx_};
  auto i = table_.find(id);
  return i != table_.end() ? i->second.buf : nullptr;
}

void store_memory::release(const wire::object_id& id) {
  wire::buffer_ptr victim;
  std::lock_guard<std::mutex> guard{table_mtx_};
  auto i = table_.find(id);
  if (i != table_.end()) {
    victim = std::move(i->second.buf);
    table_.erase(i);
  }
}

void store_memory::release_copy(const wire::object_id& id) {
  wire::buffer_ptr victim;
  std::lock_guard<std::mutex> guard{table_mtx_};
  auto i = table_.find(id);
  if (i != table_.end() && !i->second.primary) {
    victim = std::move(i->second.buf);
    table_.erase(i);
  }
}

size_t store_memory::release_owned_by(uint64_t worker) {
  std::vector<wire::buffer_ptr> victims; // freed after the lock
  std::lock_guard<std::mutex> guard{table_mtx_};
  for (auto i = table_.begin(); i != table_.end();) {
    if (i->first.hi == worker) {
      victims.emplace_back(std::move(i->second.buf));
      i = table_.erase(i);
    } else {
      ++i;
    }
  }
  return victims.size();
}

store_memory::stats store_memory::get_stats() const {
  stats result;
  {
    std::lock_guard<std::mutex> guard{pool_->mtx};
    result.used_bytes = pool_->used;
    result.capacity_bytes = pool_->capacity;
    result.pooled_bytes = pool_->pooled;
  }
  std::lock_guard<std::mutex> guard{table_mtx_};
  result.objects = table_.size();
  return result;
}

} // namespace caraway::node
