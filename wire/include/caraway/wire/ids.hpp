#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

namespace caraway::wire {

/// Identifies an object, a task, an actor, a node or a worker process. A task
/// and the object holding its return value share one id; `hi` names the
/// process that minted the id and `lo` counts within it.
struct unique_id {
  uint64_t hi = 0;
  uint64_t lo = 0;

  bool nil() const noexcept {
    return hi == 0 && lo == 0;
  }

  friend bool operator==(const unique_id& x, const unique_id& y) noexcept {
    return x.hi == y.hi && x.lo == y.lo;
  }

  friend bool operator!=(const unique_id& x, const unique_id& y) noexcept {
    return !(x == y);
  }

  friend bool operator<(const unique_id& x, const unique_id& y) noexcept {
    return x.hi != y.hi ? x.hi < y.hi : x.lo < y.lo;
  }
};

using object_id = unique_id;
using task_id = unique_id;
using actor_id = unique_id;

/// The bit of `lo` that marks an actor's id: actor handles are counted like
/// object refs, and a process that receives one must not wait for a value.
constexpr uint64_t actor_id_bit = uint64_t{1} << 63;

inline bool is_actor_id(const unique_id& x) noexcept {
  return (x.lo & actor_id_bit) != 0;
}

/// Renders an id as 32 hex digits.
std::string to_string(const unique_id& x);

/// Parses 32 hex digits as written by `to_string`; false otherwise.
bool from_string(const std::string& text, unique_id& out);

/// Writes the id's 16 bytes, big endian, to `out` (for Protobuf `bytes`).
std::string to_bytes(const unique_id& x);

/// Parses 16 bytes written by `to_bytes`; returns the nil id otherwise.
unique_id from_bytes(const std::string& bytes);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, unique_id& x) {
  return f(x.hi, x.lo);
}

} // namespace caraway::wire

namespace std {

template <>
struct hash<caraway::wire::unique_id> {
  size_t operator()(const caraway::wire::unique_id& x) const noexcept {
    // The low word is a counter: mix the high word in so that ids of
    // different processes spread too.
    return static_cast<size_t>(x.lo * 0x9E3779B97F4A7C15ull ^ x.hi);
  }
};

} // namespace std
