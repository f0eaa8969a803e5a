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

} // namespace detail

/// A future for an immutable object in the cluster. Copies share the object;
/// the object is freed when the last ref (and every task needing it) is gone.
template <class T>
class object_ref {
public:
  using value_type = T;

  object_ref() noexcept = default;

  object_ref(const object_ref& other) noexcept : id_(other.id_) {
    if (!id_.nil())
      detail::add_ref(id_);
  }

  object_ref(object_ref&& other) noexcept : id_(other.id_) {
    other.id_ = {};
  }

  object_ref& operator=(const object_ref& other) noexcept {
    object_ref tmp{other};
    std::swap(id_, tmp.id_);
    return *this;
  }

  object_ref& operator=(object_ref&& other) noexcept {
    std::swap(id_, other.id_);
    return *this;
  }

  ~object_ref() {
    if (!id_.nil())
      detail::remove_ref(id_);
  }

  /// Takes over a reference that the caller already counted.
  static object_ref adopt(const wire::object_id& id) noexcept {
    object_ref result;
    result.id_ = id;
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
    if constexpr (Inspector::reads_state) {
      detail::note_nested_ref(x.id_);
      return f(x.id_.hi, x.id_.lo);
    } else {
      wire::object_id id;
      auto result = f(id.hi, id.lo);
      object_ref tmp;
      tmp.id_ = id;
      if (!id.nil())
        detail::add_ref(id);
      std::swap(x.id_, tmp.id_);
      return result;
    }
  }

private:
  wire::object_id id_;
};

/// The refs `wait` found ready and those still pending, each in the order
/// they were given.
template <class T>
struct wait_result {
  std::vector<object_ref<T>> ready;
  std::vector<object_ref<T>> pending;
};

} // namespace caraway
