#pragma once

// The owner's object directory: where the copies of its objects live
// outside this process, so that freeing an object frees them all.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "caraway/wire/ids.hpp"
#include "caraway/wire/interfaces.hpp"

namespace caraway::owner {

/// Where one object lives beyond this process.
struct object_location {
  /// Data address and store of the primary copy, when another node's store
  /// holds it.
  std::string address;
  wire::object_store_actor primary;
  /// The node of that store, if known: the copy is lost when it dies.
  wire::unique_id node;
  /// Bytes of the value (0 if unknown): where a task's arguments weigh most
  /// is where it best runs.
  uint64_t size = 0;
  /// Stores that pulled copies.
  std::vector<wire::object_store_actor> copies;
};

/// Primary location and copies per object. Not thread-safe: the core
/// worker calls it under its lock.
class object_directory {
public:
  /// The primary copy of `id` is in `store` on `node`, served at `address`.
  void set_primary(const wire::object_id& id, std::string address,
                   wire::object_store_actor store, wire::unique_id node = {},
                   uint64_t size = 0);

  /// `store` pulled a copy of `id`.
  void add_copy(const wire::object_id& id, wire::object_store_actor store);

  /// Null when nothing is known of `id` outside this process.
  const object_location* find(const wire::object_id& id) const;

  /// The node whose store holds the most bytes of `ids` (primary copies
  /// only), counting `local_bytes` more for `local`; nil when that is
  /// `local` or nothing is known.
  wire::unique_id heaviest(const std::vector<wire::object_id>& ids,
                           const wire::unique_id& local,
                           uint64_t local_bytes) const;

  /// The objects whose primary copy is on `node`.
  std::vector<wire::object_id> on_node(const wire::unique_id& node) const;

  /// Forgets `id`, returning what was known (empty if nothing).
  object_location take(const wire::object_id& id);

  size_t size() const {
    return entries_.size();
  }

private:
  std::unordered_map<wire::object_id, object_location> entries_;
};

} // namespace caraway::owner
