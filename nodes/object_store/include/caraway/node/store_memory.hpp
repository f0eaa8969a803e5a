#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "caraway/wire/buffer.hpp"
#include "caraway/wire/ids.hpp"

namespace caraway::node {

/// The memory of a node's object store, shared by everything in the node's
/// process (the in-process form of Ray's shared-memory plasma store). Freed
/// buffers stay in a pool for reuse, because copying into memory already
/// mapped is several times faster than into fresh pages.
class store_memory {
public:
  struct stats {
    uint64_t used_bytes = 0;
    uint64_t capacity_bytes = 0;
    uint64_t objects = 0;
    uint64_t pooled_bytes = 0;
  };

  /// `capacity` caps live bytes; up to `pool_limit` freed bytes are kept.
  store_memory(uint64_t capacity, uint64_t pool_limit);

  ~store_memory();

  /// Memory for an object of `size` bytes; nullptr when the store is full
  /// even after evicting secondary copies.
  wire::buffer_ptr allocate(size_t size);

  /// Makes a filled buffer findable under `id`. A secondary copy (one pulled
  /// from another node) may be evicted when memory runs short; a primary one
  /// stays until released.
  void seal(const wire::object_id& id, wire::buffer_ptr buf,
            bool primary = true);

  /// The sealed buffer of `id`, or nullptr.
  wire::buffer_ptr get(const wire::object_id& id) const;

  /// Forgets `id`; its memory returns once the last reader lets go.
  void release(const wire::object_id& id);

  /// Forgets `id` only if this store holds a secondary copy of it.
  void release_copy(const wire::object_id& id);

  /// Forgets every object the process `worker` owns (the ids it minted):
  /// that owner is gone. Returns how many there were.
  size_t release_owned_by(uint64_t worker);

  stats get_stats() const;

private:
  struct pool;

  struct entry {
    wire::buffer_ptr buf;
    bool primary = true;
  };

  // Memory from the pool or the heap, within the cap; nullptr if full.
  wire::buffer_ptr try_allocate(size_t size);

  // Drops the oldest secondary copy; false when there is none.
  bool evict_one();

  std::shared_ptr<pool> pool_;
  mutable std::mutex table_mtx_;
  std::unordered_map<wire::object_id, entry> table_;
  std::deque<wire::object_id> secondaries_; // oldest first; may hold stale ids
};

using store_memory_ptr = std::shared_ptr<store_memory>;

} // namespace caraway::node
