#pragma once

// The owner's reference counter: who keeps each object this process knows
// alive, by kind of holder, and what an object's last holder frees.

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "caraway/wire/ids.hpp"
#include "caraway/wire/interfaces.hpp"
#include "owner/node_cache.hpp"

namespace caraway::owner {

/// Why a holder keeps an object alive.
enum class ref_kind : uint8_t {
  /// An `object_ref` in this process, or a ref kept for a receiver of a
  /// value that contains it until the receiver holds it.
  local = 0,
  /// A task or actor constructor this process submitted takes it as an
  /// argument (or inside one) and has not finished.
  submitted,
  /// A ready object of this process contains it.
  contained,
  /// Another process borrowed it from this one (owners only).
  borrower,
};

constexpr size_t ref_kinds = 4;

/// Holders of one object by kind.
struct ref_counts {
  std::array<int64_t, ref_kinds> by_kind{};

  int64_t operator[](ref_kind k) const {
    return by_kind[static_cast<size_t>(k)];
  }

  int64_t total() const {
    int64_t result = 0;
    for (auto n : by_kind)
      result += n;
    return result;
  }
};

/// An object whose last holder let go.
struct freed_object {
  wire::object_id id;
  /// Another process owns it; `owner` (once known) is told.
  bool borrowed = false;
  wire::owner_actor owner;
};

/// Counts holders per object and kind. Not thread-safe: the core worker
/// calls it under its lock. A release of a kind nobody holds is ignored, so
/// that a confused or lying peer cannot free what others hold.
class reference_counter {
public:
  bool has(const wire::object_id& id) const;

  /// A new object owned by this process, with one holder of `kind`; `put`
  /// says it came from `put`, not from a task.
  void add_owned(const wire::object_id& id, ref_kind kind = ref_kind::local,
                 bool put = false);

  /// One more local holder of an object another process owns; true when
  /// this made its entry (the owner does not know of this borrower yet).
  bool add_borrowed(const wire::object_id& id);

  /// One more holder of a known object; false (and nothing counted) if the
  /// object is unknown.
  bool add(const wire::object_id& id, ref_kind kind);

  /// One holder fewer; objects left without holders are appended to
  /// `freed`, and so are the objects they contained that nothing else
  /// holds. False when no holder of `kind` was counted.
  bool remove(const wire::object_id& id, ref_kind kind,
              std::vector<freed_object>& freed);

  /// A holder changes its kind (a collected nested ref becomes a task's
  /// argument or an object's content).
  void convert(const wire::object_id& id, ref_kind from, ref_kind to);

  /// The objects that `id` contains; each counts one `contained` holder,
  /// given up when `id` is freed. Callers count those holders themselves.
  void set_contains(const wire::object_id& id,
                    std::vector<wire::object_id> contains);

  /// What `id` contains (empty if unknown).
  std::vector<wire::object_id> contains(const wire::object_id& id) const;

  /// Records who owns a borrowed object; false if it is unknown here.
  bool set_owner(const wire::object_id& id, wire::owner_actor owner);

  /// Borrowed objects whose owner is `owner`.
  std::vector<wire::object_id>
  borrowed_from(const caf::actor_addr& owner) const;

  ref_counts counts(const wire::object_id& id) const;

  /// Calls `f(id)` for each object this process owns.
  template <class F>
  void for_each_owned(F&& f) const {
    for (auto& [id, e] : entries_)
      if (!e.borrowed)
        f(id);
  }

  /// Whether this process owns `id` and made it with `put`.
  bool owned_put(const wire::object_id& id) const;

  size_t size() const {
    return entries_.size();
  }

private:
  struct entry {
    ref_counts refs;
    bool borrowed = false;
    bool put = false;
    wire::owner_actor owner;
    std::vector<wire::object_id> contains;
  };

  using allocator = cached_allocator<std::pair<const wire::object_id, entry>>;

  // Before the map, which gives its nodes back to it.
  node_cache nodes_;
  std::unordered_map<wire::object_id, entry, std::hash<wire::object_id>,
                     std::equal_to<wire::object_id>, allocator>
    entries_{allocator{nodes_}};
};

} // namespace caraway::owner
