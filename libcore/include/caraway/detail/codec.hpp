#pragma once

// How user values become bytes and back. Arithmetic values, strings and
// vectors of raw elements (arithmetic values and trivially copyable
// structs) are copied raw (one memcpy) after their length; Protobuf messages
// use their own encoding; everything else goes through CAF's `inspect()`.

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "caraway/wire/buffer.hpp"

namespace caraway::detail {

/// Memory for an encoded value of `size` bytes: from the object store when
/// the value is large (sets `in_store`), from the heap otherwise.
wire::buffer_ptr allocate_value(size_t size, bool& in_store);

/// A per-thread scratch vector for CAF's serializer; keeps its capacity.
std::vector<char>& scratch_buffer();

/// Throws `caraway::error` naming the type that failed to encode or decode.
[[noreturn]] void throw_codec_error(const char* what, const std::type_info& ti,
                                    const std::string& why);

/// Elements a vector stores as their bytes: arithmetic values but bool
/// (which std::vector packs into bits), enums, and trivially copyable
/// standard-layout structs (copied bit for bit, pointers in them included).
template <class U>
struct is_raw_element
  : std::integral_constant<
      bool,
      (std::is_arithmetic<U>::value && !std::is_same<U, bool>::value)
        || std::is_enum<U>::value
        || (std::is_class<U>::value && std::is_trivially_copyable<U>::value
            && std::is_standard_layout<U>::value
            && std::is_default_constructible<U>::value)> {};

template <class T>
struct is_raw_vector : std::false_type {};

template <class U, class A>
struct is_raw_vector<std::vector<U, A>> : is_raw_element<U> {};

template <class T>
struct is_raw_vector<std::basic_string<T>>
  : std::integral_constant<bool, std::is_same<T, char>::value> {};

template <class T, class = void>
struct is_protobuf : std::false_type {};

template <class T>
struct is_protobuf<T, std::void_t<decltype(std::declval<const T&>()
                                             .SerializeToString(
                                               std::declval<std::string*>())),
                                  decltype(std::declval<T&>().ParseFromArray(
                                    std::declval<const void*>(), 0))>>
  : std::true_type {};

template <class T>
wire::buffer_ptr encode_value(const T& x, bool& in_store) {
  if constexpr (std::is_arithmetic<T>::value) {
    auto buf = allocate_value(sizeof(T), in_store);
    std::memcpy(buf->data(), &x, sizeof(T));
    return buf;
  } else if constexpr (is_raw_vector<T>::value) {
    using elem = typename T::value_type;
    uint64_t n = x.size();
    auto bytes = n * sizeof(elem);
    auto buf = allocate_value(sizeof(uint64_t) + bytes, in_store);
    std::memcpy(buf->data(), &n, sizeof(uint64_t));
    if (bytes > 0)
      std::memcpy(buf->data() + sizeof(uint64_t), x.data(), bytes);
    return buf;
  } else if constexpr (is_protobuf<T>::value) {
    std::string bytes;
    if (!x.SerializeToString(&bytes))
      throw_codec_error("encode", typeid(T), "SerializeToString failed");
    auto buf = allocate_value(bytes.size(), in_store);
    std::memcpy(buf->data(), bytes.data(), bytes.size());
    return buf;
  } else {
    auto& scratch = scratch_buffer();
    scratch.clear();
    caf::binary_serializer sink{static_cast<caf::execution_unit*>(nullptr),
                                scratch};
    if (auto err = sink(const_cast<T&>(x)))
      throw_codec_error("encode", typeid(T), "CAF serializer failed");
    auto buf = allocate_value(scratch.size(), in_store);
    if (!scratch.empty())
      std::memcpy(buf->data(), scratch.data(), scratch.size());
    return buf;
  }
}

template <class T>
T decode_value(const char* data, size_t size) {
  static_assert(std::is_default_constructible<T>::value,
                "caraway values must be default-constructible");
  T result{};
  if constexpr (std::is_arithmetic<T>::value) {
    if (size != sizeof(T))
      throw_codec_error("decode", typeid(T), "size mismatch");
    std::memcpy(&result, data, sizeof(T));
  } else if constexpr (is_raw_vector<T>::value) {
    using elem = typename T::value_type;
    uint64_t n = 0;
    if (size < sizeof(uint64_t))
      throw_codec_error("decode", typeid(T), "truncated");
    std::memcpy(&n, data, sizeof(uint64_t));
    if ((size - sizeof(uint64_t)) / sizeof(elem) != n)
      throw_codec_error("decode", typeid(T), "size mismatch");
    result.resize(n);
    if (n > 0)
      std::memcpy(&result[0], data + sizeof(uint64_t), n * sizeof(elem));
  } else if constexpr (is_protobuf<T>::value) {
    if (!result.ParseFromArray(data, static_cast<int>(size)))
      throw_codec_error("decode", typeid(T), "ParseFromArray failed");
  } else {
    caf::binary_deserializer source{static_cast<caf::execution_unit*>(nullptr),
                                    data, size};
    if (auto err = source(result))
      throw_codec_error("decode", typeid(T), "CAF deserializer failed");
  }
  return result;
}

} // namespace caraway::detail
