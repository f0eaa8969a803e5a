#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace caraway::wire {

/// An immutable byte range holding one serialized value. Small values live on
/// the heap; large ones in memory lent by the node's object store, which gets
/// it back when the last holder lets go.
class buffer {
public:
  using releaser = std::function<void(char*, size_t)>;

  /// Takes `capacity` bytes from the heap.
  explicit buffer(size_t size);

  /// Wraps memory owned by someone else; `release` gives it back.
  buffer(char* data, size_t size, releaser release);

  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;

  ~buffer();

  char* data() noexcept {
    return data_;
  }

  const char* data() const noexcept {
    return data_;
  }

  size_t size() const noexcept {
    return size_;
  }

  /// Shrinks the visible size (the capacity stays).
  void shrink(size_t new_size) noexcept {
    if (new_size < size_)
      size_ = new_size;
  }

private:
  char* data_;
  size_t size_;
  size_t capacity_;
  releaser release_;
};

using buffer_ptr = std::shared_ptr<buffer>;

/// Copies `size` bytes into a new heap buffer.
buffer_ptr make_buffer(const char* data, size_t size);

} // namespace caraway::wire
