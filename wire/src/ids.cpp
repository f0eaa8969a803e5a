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

buffer_ptr make_buffer(const char* data, size_t size) {
  auto result = std::make_shared<buffer>(size);
  if (size > 0)
    std::memcpy(result->data(), data, size);
  return result;
}

} // namespace caraway::wire
