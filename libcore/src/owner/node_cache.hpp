#pragma once

// Recycled nodes for the owner's per-object maps. A put makes a node in the
// reference counter and one in the memory store, and the release of its ref
// frees both: allocating and freeing them was about an eighth of the
// instructions of a put and its release.
// std::pmr's pools would do the same but keep every block they ever handed
// out until they are destroyed; this keeps at most `capacity` free nodes and
// gives the rest back, so a burst of a million objects leaves no trace.

#include <cstddef>
#include <new>

namespace caraway::owner {

/// Free nodes of one map. Not thread-safe: the map's lock guards it.
class node_cache {
public:
  explicit node_cache(size_t capacity = 4096) : capacity_(capacity) {
  }

  node_cache(const node_cache&) = delete;
  node_cache& operator=(const node_cache&) = delete;

  ~node_cache() {
    while (head_ != nullptr) {
      auto next = head_->next;
      ::operator delete(head_);
      head_ = next;
    }
  }

  void* take(size_t bytes) {
    if (bytes == node_bytes_ && head_ != nullptr) {
      auto result = head_;
      head_ = head_->next;
      --size_;
      return result;
    }
    return ::operator new(bytes);
  }

  void give(void* ptr, size_t bytes) {
    // A map allocates nodes of one size; the first one given sets it.
    if (node_bytes_ == 0 && bytes >= sizeof(slot))
      node_bytes_ = bytes;
    if (bytes != node_bytes_ || size_ >= capacity_) {
      ::operator delete(ptr);
      return;
    }
    head_ = new (ptr) slot{head_};
    ++size_;
  }

  size_t size() const {
    return size_;
  }

private:
  struct slot {
    slot* next;
  };

  slot* head_ = nullptr;
  size_t size_ = 0;
  size_t node_bytes_ = 0;
  size_t capacity_;
};

/// An allocator that takes single nodes from a `node_cache` (arrays, such
/// as a hash map's buckets, come from the heap).
template <class T>
class cached_allocator {
public:
  using value_type = T;

  explicit cached_allocator(node_cache& cache) noexcept : cache_(&cache) {
  }

  template <class U>
  cached_allocator(const cached_allocator<U>& other) noexcept
    : cache_(other.cache()) {
  }

  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                "nodes come from plain operator new");

  T* allocate(size_t n) {
    if (n == 1)
      return static_cast<T*>(cache_->take(sizeof(T)));
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }

  void deallocate(T* ptr, size_t n) noexcept {
    if (n == 1)
      cache_->give(ptr, sizeof(T));
    else
      ::operator delete(ptr);
  }

  node_cache* cache() const noexcept {
    return cache_;
  }

  template <class U>
  bool operator==(const cached_allocator<U>& other) const noexcept {
    return cache_ == other.cache();
  }

  template <class U>
  bool operator!=(const cached_allocator<U>& other) const noexcept {
    return cache_ != other.cache();
  }

private:
  node_cache* cache_;
};

} // namespace caraway::owner
