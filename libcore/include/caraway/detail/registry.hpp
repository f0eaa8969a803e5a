#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <vector>

#include "caraway/detail/codec.hpp"
#include "caraway/wire/buffer.hpp"

namespace caraway::detail {

/// Arguments and result of one call of a registered function or method.
struct invocation {
  std::vector<std::pair<const char*, size_t>> args;
  wire::buffer_ptr result;
  bool in_store = false;
};

using function_invoker = std::function<void(invocation&)>;
using method_invoker = std::function<void(void* self, invocation&)>;
using actor_factory = std::function<void*(invocation&)>;
using actor_deleter = void (*)(void*);

/// Splits the text of a registration macro's arguments at top-level commas
/// and turns each entry into a name: "fib" stays "fib",
/// "CARAWAY_FUNC(add, int, int)" becomes "add(int, int)" and
/// "&counter::increment" becomes "increment".
std::vector<std::string> split_names(const char* text);

/// The key under which a function pointer is known.
const void* function_key(void (*fn)());

void register_function(const std::string& name, const void* key,
                       function_invoker invoker);

/// The registered name of the function; throws `registration_error`.
const std::string& function_name(const void* key, const std::type_info& sig);

void register_actor_class(const std::string& name, std::type_index type,
                          actor_deleter deleter);

void register_constructor(std::type_index type, std::vector<std::string> key,
                          actor_factory factory);

void register_method(std::type_index type, const std::string& name,
                     std::string key, method_invoker invoker);

/// The registered class name; throws `registration_error`.
const std::string& actor_class_name(std::type_index type);

/// The registered name of a method; throws `registration_error`.
const std::string& method_name(std::type_index type, const std::string& key,
                               const std::type_info& sig);

/// Names a type in constructor keys and messages (demangled).
std::string type_key(const std::type_info& ti);

template <class T>
struct is_object_ref : std::false_type {};

/// Throws `invalid_argument_error` about a call with the wrong arity.
[[noreturn]] void throw_arity_error(size_t expected, size_t got);

template <class... Ps, class F, size_t... Is>
void invoke_with(F&& call, invocation& inv, std::index_sequence<Is...>) {
  if (inv.args.size() != sizeof...(Ps))
    throw_arity_error(sizeof...(Ps), inv.args.size());
  // Braced initialization decodes the arguments left to right.
  std::tuple<std::decay_t<Ps>...> xs{decode_value<std::decay_t<Ps>>(
    inv.args[Is].first, inv.args[Is].second)...};
  using result_type = decltype(call(std::move(std::get<Is>(xs))...));
  if constexpr (std::is_void<result_type>::value) {
    call(std::move(std::get<Is>(xs))...);
    inv.result = allocate_value(0, inv.in_store);
  } else {
    auto result = call(std::move(std::get<Is>(xs))...);
    inv.result = encode_value(result, inv.in_store);
  }
}

template <class P>
constexpr void check_param() {
  static_assert(!std::is_lvalue_reference<P>::value
                  || std::is_const<std::remove_reference_t<P>>::value,
                "parameters of remote functions are values, const& or &&");
}

template <class R, class... Ps>
void register_one(const std::string& name, R (*fn)(Ps...)) {
  (check_param<Ps>(), ...);
  register_function(
    name, function_key(reinterpret_cast<void (*)()>(fn)),
    [fn](invocation& inv) {
      invoke_with<Ps...>([fn](auto&&... xs) { return fn(std::move(xs)...); },
                         inv, std::index_sequence_for<Ps...>{});
    });
}

template <class... Fs>
bool register_functions(const char* text, Fs... fns) {
  auto names = split_names(text);
  size_t i = 0;
  (register_one(names.at(i++), fns), ...);
  return true;
}

/// Picks one overload of `fn` by its parameter types.
template <class... Ps, class R>
auto overload(R (*fn)(Ps...)) {
  return fn;
}

/// Key of a member function pointer: its bytes plus its type.
template <class M>
std::string member_key(M ptr) {
  std::string key(reinterpret_cast<const char*>(&ptr), sizeof(M));
  key += typeid(M).name();
  return key;
}

} // namespace caraway::detail

namespace caraway {

/// The type of `ctor<Ps...>`.
template <class... Ps>
struct ctor_tag {};

/// Names one constructor of an actor class in `CARAWAY_ACTOR`:
/// `CARAWAY_ACTOR(counter, caraway::ctor<int64_t>, &counter::increment)`.
template <class... Ps>
constexpr ctor_tag<Ps...> ctor{};

namespace detail {

/// The type a constructor argument is matched and sent as.
template <class T>
struct ctor_arg {
  using type = std::decay_t<T>;
};

template <>
struct ctor_arg<const char*> {
  using type = std::string;
};

template <>
struct ctor_arg<char*> {
  using type = std::string;
};

template <class T>
using ctor_arg_t = typename ctor_arg<std::decay_t<T>>::type;

template <class C, class... Ps>
void register_actor_part(std::type_index type, const std::string&,
                         ctor_tag<Ps...>) {
  register_constructor(type, {type_key(typeid(std::decay_t<Ps>))...},
                       [](invocation& inv) -> void* {
                         void* result = nullptr;
                         invoke_with<Ps...>(
                           [&](auto&&... xs) {
                             result = new C(std::move(xs)...);
                           },
                           inv, std::index_sequence_for<Ps...>{});
                         return result;
                       });
}

template <class C, class Self, class R, class... Ps, class M>
void register_method_impl(std::type_index type, const std::string& name,
                          M ptr) {
  (check_param<Ps>(), ...);
  register_method(type, name, member_key(ptr),
                  [ptr](void* self, invocation& inv) {
                    auto obj = static_cast<Self*>(self);
                    invoke_with<Ps...>(
                      [&](auto&&... xs) {
                        return (obj->*ptr)(std::move(xs)...);
                      },
                      inv, std::index_sequence_for<Ps...>{});
                  });
}

template <class C, class B, class R, class... Ps>
void register_actor_part(std::type_index type, const std::string& name,
                         R (B::*ptr)(Ps...)) {
  register_method_impl<C, C, R, Ps...>(type, name, ptr);
}

template <class C, class B, class R, class... Ps>
void register_actor_part(std::type_index type, const std::string& name,
                         R (B::*ptr)(Ps...) const) {
  register_method_impl<C, const C, R, Ps...>(type, name, ptr);
}

template <class C, class... Parts>
bool register_actor(const char* class_name, const char* text,
                    Parts... parts) {
  std::type_index type{typeid(C)};
  register_actor_class(class_name, type,
                       [](void* ptr) { delete static_cast<C*>(ptr); });
  auto names = split_names(text);
  size_t i = 0;
  (register_actor_part<C>(type, names.at(i++), parts), ...);
  return true;
}

} // namespace detail

} // namespace caraway

#define CARAWAY_PP_CAT_I(a, b) a##b
#define CARAWAY_PP_CAT(a, b) CARAWAY_PP_CAT_I(a, b)

/// Picks one overload of a function for `CARAWAY_REMOTE`:
/// `CARAWAY_REMOTE(CARAWAY_FUNC(add, int, int))`.
#define CARAWAY_FUNC(fn, ...) ::caraway::detail::overload<__VA_ARGS__>(fn)

/// Registers free functions as remote tasks, under their names.
#define CARAWAY_REMOTE(...)                                                    \
  namespace {                                                                  \
  [[maybe_unused]] const bool CARAWAY_PP_CAT(caraway_remote_, __COUNTER__)     \
    = ::caraway::detail::register_functions(#__VA_ARGS__, __VA_ARGS__);        \
  }

/// Registers an actor class with its constructors (`caraway::ctor<Ts...>`)
/// and the methods callers may invoke.
#define CARAWAY_ACTOR(cls, ...)                                                \
  namespace {                                                                  \
  [[maybe_unused]] const bool CARAWAY_PP_CAT(caraway_actor_, __COUNTER__)      \
    = ::caraway::detail::register_actor<cls>(#cls, #__VA_ARGS__, __VA_ARGS__); \
  }
