#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "caraway/wire/buffer.hpp"

namespace caraway {

/// A read-only view of the elements of a stored vector (or the characters
/// of a stored string), as `get_view` returns it: it points into the object
/// store's memory, which it keeps alive while it lives. In a worker process
/// that memory is the node's shared store, mapped with no copy.
template <class T>
class array_view {
public:
  using value_type = T;
  using const_iterator = const T*;

  array_view() noexcept = default;

  array_view(wire::buffer_ptr keep, const T* data, size_t size) noexcept
    : keep_(std::move(keep)), data_(data), size_(size) {
  }

  const T* data() const noexcept {
    return data_;
  }

  size_t size() const noexcept {
    return size_;
  }

  bool empty() const noexcept {
    return size_ == 0;
  }

  const T& operator[](size_t i) const noexcept {
    return data_[i];
  }

  const T* begin() const noexcept {
    return data_;
  }

  const T* end() const noexcept {
    return data_ + size_;
  }

  /// For a view of a string's characters.
  template <class U = T, class = std::enable_if_t<std::is_same<U, char>::value>>
  std::string_view str() const noexcept {
    return {data_, size_};
  }

private:
  wire::buffer_ptr keep_;
  const T* data_ = nullptr;
  size_t size_ = 0;
};

} // namespace caraway
