#include "caraway/wire/ids.hpp"

#include "caraway/wire/buffer.hpp"

#include <cstdio>

namespace caraway::wire {

std::string to_string(const unique_id& x) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx",
                static_cast<unsigned long long>(x.hi),
                static_cast<unsigned long long>(x.lo));
  return buf;
}

bool from_string(const std::string& text, unique_id& out) {
  if (text.size() != 32)
    return false;
  uint64_t words[2] = {0, 0};
  for (size_t i = 0; i < 32; ++i) {
    auto c = text[i];
    uint64_t digit;
    if (c >= '0' && c <= '9')
      digit = static_cast<uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      digit = static_cast<uint64_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      digit = static_cast<uint64_t>(c - 'A' + 10);
    else
      return false;
    words[i / 16] = (words[i / 16] << 4) | digit;
  }
  out = {words[0], words[1]};
  return true;
}

std::string to_bytes(const unique_id& x) {
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(x.hi >> (56 - 8 * i));
    out[8 + i] = static_cast<char>(x.lo >> (56 - 8 * i));
  }
  return out;
}

unique_id from_bytes(const std::string& bytes) {
  unique_id x;
  if (bytes.size() != 16)
    return x;
  for (int i = 0; i < 8; ++i) {
    x.hi = (x.hi << 8) | static_cast<unsigned char>(bytes[i]);
    x.lo = (x.lo << 8) | static_cast<unsigned char>(bytes[8 + i]);
  }
  return x;
}

buffer::buffer(size_t size)
  : data_(size > 0 ? new char[size] : nullptr), size_(size), capacity_(size) {
  // nop
}

buffer::buffer(char* data, size_t size, releaser release)
  : data_(data), size_(size), capacity_(size), release_(std::move(release)) {
  // nop
}

buffer::~buffer() {
  if (release_)
    release_(data_, capacity_);
  else
    delete[] data_;
}

namespace {

// Allocates the shared block of a buffer `extra` bytes larger and says where
// those bytes begin: a small value then costs one allocation, not two.
template <class T>
struct tail_allocator {
  using value_type = T;

  size_t extra;
  char** tail;

  tail_allocator(size_t extra, char** tail) : extra(extra), tail(tail) {
  }

  template <class U>
  tail_allocator(const tail_allocator<U>& other)
    : extra(other.extra), tail(other.tail) {
  }

  T* allocate(size_t n) {
    // The bytes are aligned as those from `new char[]` are: readers may view
    // them as an array of doubles.
    constexpr size_t align = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
    size_t head = (n * sizeof(T) + align - 1) / align * align;
    auto* block = static_cast<char*>(::operator new(head + extra));
    *tail = block + head;
    return reinterpret_cast<T*>(block);
  }

  void deallocate(T* ptr, size_t) noexcept {
    ::operator delete(ptr);
  }

  template <class U>
  bool operator==(const tail_allocator<U>& other) const {
    return tail == other.tail;
  }

  template <class U>
  bool operator!=(const tail_allocator<U>& other) const {
    return tail != other.tail;
  }
};

} // namespace

buffer_ptr make_buffer(size_t size) {
  if (size == 0)
    return std::make_shared<buffer>(size);
  char* tail = nullptr;
  // The buffer is made after its block, so `tail` is set by then; the bytes
  // go with the block, so releasing them is nothing.
  return std::allocate_shared<buffer>(tail_allocator<buffer>{size, &tail}, tail,
                                      size, [](char*, size_t) {});
}

buffer_ptr make_buffer(const char* data, size_t size) {
  auto result = make_buffer(size);
  if (size > 0)
    std::memcpy(result->data(), data, size);
  return result;
}

} // namespace caraway::wire
