#pragma once

#include <string>
#include <vector>
#include <utility>

#include "caraway/wire/ids.hpp"

namespace caraway {

namespace detail {

/// Counts one more local reference to the object.
void add_ref(const wire::object_id& id) noexcept;

/// Drops one local reference; the last one frees the object.
void remove_ref(const wire::object_id& id) noexcept;

/// Records a ref serialized inside a value, so that the value keeps it alive.
void note_nested_ref(const wire::object_id& id);

/// An id counted by this process' owner for as long as its holder lives:
/// a copy counts once more, a move hands the count over. Object refs and
/// actor handles are both.
class counted_id {
public:
  counted_id() noexcept = default;

  counted_id(const counted_id& other) noexcept : id_(other.id_) {
    if (!id_.nil())
      add_ref(id_);
  }

  counted_id(counted_id&& other) noexcept : id_(other.id_) {
    other.id_ = {};
  }

  counted_id& operator=(const counted_id& other) noexcept {
    counted_id tmp{other};
    std::swap(id_, tmp.id_);
    return *this;
  }

  counted_id& operator=(counted_id&& other) noexcept {
    std::swap(id_, other.id_);
    return *this;
  }

  ~counted_id() {
    if (!id_.nil())
      remove_ref(id_);
  }

protected:
  /// Holds `id` with a count the caller made, letting go of the id before.
  void take_counted(const wire::unique_id& id) noexcept {
    counted_id tmp;
    tmp.id_ = id;
    std::swap(id_, tmp.id_);
  }

  /// Writes the id inside a value (which then keeps it alive), or reads it
  /// and counts it here.
  template <class Inspector>
  typename Inspector::result_type inspect_id(Inspector& f) {
    if constexpr (Inspector::reads_state) {
      note_nested_ref(id_);
      return f(id_.hi, id_.lo);
    } else {
      wire::unique_id id;
      auto result = f(id.hi, id.lo);
      if (!id.nil())
        add_ref(id);
      take_counted(id);
      return result;
    }
  }

  wire::unique_id id_;
};

} // namespace detail

/// A future for an immutable object in the cluster. Copies share the object;
/// the object is freed when the last ref (and every task needing it) is gone.
template <class T>
class object_ref : public detail::counted_id {
public:
  using value_type = T;

  object_ref() noexcept = default;

  /// Takes over a reference that the caller already counted.
  static object_ref adopt(const wire::object_id& id) noexcept {
    object_ref result;
    result.take_counted(id);
    return result;
  }

  const wire::object_id& id() const noexcept {
    return id_;
  }

  /// False for a default-constructed ref.
  bool valid() const noexcept {
    return !id_.nil();
  }

  /// The object id as 32 hex digits.
  std::string hex() const {
    return wire::to_string(id_);
  }

  friend bool operator==(const object_ref& x, const object_ref& y) noexcept {
    return x.id_ == y.id_;
  }

  friend bool operator!=(const object_ref& x, const object_ref& y) noexcept {
    return x.id_ != y.id_;
  }

  /// Lets refs travel inside values: a ref nested in a value stays a ref.
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f,
                                                 object_ref& x) {
    return x.inspect_id(f);
  }
};

/// The refs `wait` found ready and those still pending, each in the order
/// they were given.
template <class T>
struct wait_result {
  std::vector<object_ref<T>> ready;
  std::vector<object_ref<T>> pending;
};

} // namespace caraway
