#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "caraway/wire/buffer.hpp"
#include "caraway/wire/ids.hpp"

namespace caraway::node {

class shm_segment;

/// The memory of a node's object store (the form of Ray's plasma store):
/// sealed objects by id, memory for new ones within a cap. One kind lives in
/// the process and is used directly; a worker process uses its node's
/// through a client (`connect_store`), with the objects in shared memory.
class store_memory {
public:
  struct stats {
    uint64_t used_bytes = 0;
    uint64_t capacity_bytes = 0;
    uint64_t objects = 0;
    uint64_t pooled_bytes = 0;
    /// Secondary copies dropped for room so far, and their bytes.
    uint64_t evicted_objects = 0;
    uint64_t evicted_bytes = 0;
  };

  virtual ~store_memory();

  /// Memory for an object of `size` bytes; nullptr when the store is full
  /// even after evicting secondary copies.
  virtual wire::buffer_ptr allocate(size_t size) = 0;

  /// Makes a filled buffer from `allocate` findable under `id`. A secondary
  /// copy (one pulled from another node) may be evicted when memory runs
  /// short; a primary one stays until released.
  virtual void
  seal(const wire::object_id& id, wire::buffer_ptr buf, bool primary = true)
    = 0;

  /// The sealed buffer of `id`, or nullptr.
  virtual wire::buffer_ptr get(const wire::object_id& id) const = 0;

  /// Forgets `id`; its memory returns once the last reader lets go.
  virtual void release(const wire::object_id& id) = 0;

  /// Forgets `id` only if this store holds a secondary copy of it.
  virtual void release_copy(const wire::object_id& id) = 0;

  /// Forgets every object the process `worker` owns (the ids it minted):
  /// that owner is gone. Returns how many there were.
  virtual size_t release_owned_by(uint64_t worker) = 0;

  virtual stats get_stats() const = 0;
};

using store_memory_ptr = std::shared_ptr<store_memory>;

/// A store on this process' heap: `capacity` caps live bytes; up to
/// `pool_limit` freed bytes are kept for reuse, because copying into memory
/// already mapped is several times faster than into fresh pages.
store_memory_ptr make_store_memory(uint64_t capacity, uint64_t pool_limit);

/// A store whose objects live in `segment`, shared memory that worker
/// processes map too (a `store_server` lends it out to them).
store_memory_ptr make_shared_store_memory(std::shared_ptr<shm_segment> segment);

} // namespace caraway::node
