#include "caraway/node/store_memory.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "caraway/node/shared_store.hpp"

namespace caraway::node {

store_memory::~store_memory() = default;

namespace {

// Where a local store's memory comes from, within its cap.
class arena {
public:
  virtual ~arena() = default;

  // nullptr when there is no room.
  virtual wire::buffer_ptr take(size_t size) = 0;

  virtual void add_stats(store_memory::stats& st) const = 0;
};

// Heap memory. Freed buffers stay in a pool for reuse, because copying into
// memory already mapped is several times faster than into fresh pages.
class heap_arena : public arena {
public:
  heap_arena(uint64_t capacity, uint64_t pool_limit)
    : pool_(std::make_shared<pool>()) {
    pool_->capacity = capacity;
    pool_->pool_limit = pool_limit;
  }

  wire::buffer_ptr take(size_t size) override {
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

  void add_stats(store_memory::stats& st) const override {
    std::lock_guard<std::mutex> guard{pool_->mtx};
    st.used_bytes = pool_->used;
    st.capacity_bytes = pool_->capacity;
    st.pooled_bytes = pool_->pooled;
  }

private:
  struct pool {
    std::mutex mtx;
    uint64_t capacity = 0;
    uint64_t pool_limit = 0;
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

  std::shared_ptr<pool> pool_;
};

// Ranges of a shared segment, best fit, neighbours merged when freed. Its
// bookkeeping lives on this process' heap, not in the segment, so that a
// worker process writing where it should not cannot corrupt it (an
// allocator kept inside the segment, such as Boost.Interprocess', could be).
class range_allocator {
public:
  explicit range_allocator(uint64_t capacity) {
    if (capacity > 0)
      insert(0, capacity);
  }

  // Sizes are rounded up to cache lines, which also aligns every value.
  static uint64_t round(uint64_t size) {
    return size == 0 ? alignment : (size + alignment - 1) & ~(alignment - 1);
  }

  bool allocate(uint64_t size, uint64_t& offset) {
    auto i = by_size_.lower_bound({size, 0});
    if (i == by_size_.end())
      return false;
    auto [len, off] = *i;
    by_size_.erase(i);
    free_.erase(off);
    if (len > size)
      insert(off + size, len - size);
    offset = off;
    used_ += size;
    return true;
  }

  void release(uint64_t off, uint64_t size) {
    used_ -= size;
    auto next = free_.lower_bound(off);
    if (next != free_.end() && off + size == next->first) {
      size += next->second;
      by_size_.erase({next->second, next->first});
      next = free_.erase(next);
    }
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == off) {
        off = prev->first;
        size += prev->second;
        by_size_.erase({prev->second, prev->first});
        free_.erase(prev);
      }
    }
    insert(off, size);
  }

  uint64_t used() const {
    return used_;
  }

private:
  static constexpr uint64_t alignment = 64;

  void insert(uint64_t off, uint64_t len) {
    free_.emplace(off, len);
    by_size_.emplace(len, off);
  }

  uint64_t used_ = 0;
  std::map<uint64_t, uint64_t> free_;               // offset -> length
  std::set<std::pair<uint64_t, uint64_t>> by_size_; // (length, offset)
};

class segment_arena : public arena {
public:
  explicit segment_arena(std::shared_ptr<shm_segment> segment)
    : state_(std::make_shared<state>(std::move(segment))) {
  }

  wire::buffer_ptr take(size_t size) override {
    auto len = range_allocator::round(size);
    uint64_t off = 0;
    {
      std::lock_guard<std::mutex> guard{state_->mtx};
      if (!state_->ranges.allocate(len, off))
        return nullptr;
    }
    // The segment stays mapped while any of its buffers lives.
    auto st = state_;
    return std::make_shared<wire::buffer>(
      st->segment->base() + off, size, [st, off, len](char*, size_t) {
        std::lock_guard<std::mutex> guard{st->mtx};
        st->ranges.release(off, len);
      });
  }

  void add_stats(store_memory::stats& st) const override {
    std::lock_guard<std::mutex> guard{state_->mtx};
    st.used_bytes = state_->ranges.used();
    st.capacity_bytes = state_->segment->size();
  }

private:
  struct state {
    explicit state(std::shared_ptr<shm_segment> seg)
      : segment(std::move(seg)), ranges(segment->size()) {
    }
    std::shared_ptr<shm_segment> segment;
    std::mutex mtx;
    range_allocator ranges;
  };

  std::shared_ptr<state> state_;
};

class local_store : public store_memory {
public:
  explicit local_store(std::unique_ptr<arena> memory)
    : arena_(std::move(memory)) {
  }

  wire::buffer_ptr allocate(size_t size) override {
    for (;;) {
      if (auto buf = arena_->take(size))
        return buf;
      // Memory of an evicted copy returns once its last reader lets go; a
      // copy in use frees nothing now, so try the next one.
      if (!evict_one())
        return nullptr;
    }
  }

  void seal(const wire::object_id& id, wire::buffer_ptr buf,
            bool primary) override {
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

  wire::buffer_ptr get(const wire::object_id& id) const override {
    std::lock_guard<std::mutex> guard{table_mtx_};
    auto i = table_.find(id);
    return i != table_.end() ? i->second.buf : nullptr;
  }

  void release(const wire::object_id& id) override {
    wire::buffer_ptr victim;
    std::lock_guard<std::mutex> guard{table_mtx_};
    auto i = table_.find(id);
    if (i != table_.end()) {
      victim = std::move(i->second.buf);
      table_.erase(i);
    }
  }

  void release_copy(const wire::object_id& id) override {
    wire::buffer_ptr victim;
    std::lock_guard<std::mutex> guard{table_mtx_};
    auto i = table_.find(id);
    if (i != table_.end() && !i->second.primary) {
      victim = std::move(i->second.buf);
      table_.erase(i);
    }
  }

  size_t release_owned_by(uint64_t worker) override {
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

  stats get_stats() const override {
    stats result;
    arena_->add_stats(result);
    std::lock_guard<std::mutex> guard{table_mtx_};
    result.objects = table_.size();
    result.evicted_objects = evicted_objects_;
    result.evicted_bytes = evicted_bytes_;
    return result;
  }

private:
  struct entry {
    wire::buffer_ptr buf;
    bool primary = true;
  };

  // Drops the oldest secondary copy; false when there is none.
  bool evict_one() {
    wire::buffer_ptr victim;
    std::lock_guard<std::mutex> guard{table_mtx_};
    while (!secondaries_.empty()) {
      auto id = secondaries_.front();
      secondaries_.pop_front();
      auto i = table_.find(id);
      if (i != table_.end() && !i->second.primary) {
        victim = std::move(i->second.buf);
        table_.erase(i);
        ++evicted_objects_;
        evicted_bytes_ += victim ? victim->size() : 0;
        return true;
      }
    }
    return false;
  }

  std::unique_ptr<arena> arena_;
  mutable std::mutex table_mtx_;
  std::unordered_map<wire::object_id, entry> table_;
  std::deque<wire::object_id> secondaries_; // oldest first; may hold stale ids
  uint64_t evicted_objects_ = 0;             // guarded by table_mtx_
  uint64_t evicted_bytes_ = 0;
};

} // namespace

store_memory_ptr make_store_memory(uint64_t capacity, uint64_t pool_limit) {
  return std::make_shared<local_store>(
    std::make_unique<heap_arena>(capacity, pool_limit));
}

store_memory_ptr
make_shared_store_memory(std::shared_ptr<shm_segment> segment) {
  return std::make_shared<local_store>(
    std::make_unique<segment_arena>(std::move(segment)));
}

} // namespace caraway::node
