#pragma once

#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "caraway/detail/codec.hpp"
#include "caraway/detail/core.hpp"
#include "caraway/detail/registry.hpp"
#include "caraway/error.hpp"
#include "caraway/object_ref.hpp"
#include "caraway/placement_group.hpp"

namespace caraway::detail {

template <class T>
struct is_object_ref<object_ref<T>> : std::true_type {};

/// A count of retries or restarts: -1 (no limit) or at least 0.
inline int32_t retry_count(const char* option, int n) {
  if (n < -1)
    throw invalid_argument_error(std::string{option}
                                 + " must be -1 (no limit) or at least 0, not "
                                 + std::to_string(n));
  return n;
}

/// Turns one call argument into a value or a ref for parameter type `P`.
template <class P, class A>
call_arg make_arg(A&& x) {
  using arg_type = std::decay_t<A>;
  call_arg result;
  if constexpr (is_object_ref<arg_type>::value && !is_object_ref<P>::value) {
    static_assert(std::is_same<typename arg_type::value_type, P>::value,
                  "an object_ref<T> argument needs a parameter of type T");
    result.is_ref = true;
    result.ref = x.id();
  } else if constexpr (std::is_same<arg_type, P>::value) {
    result.value = encode_value<P>(x, result.in_store);
  } else {
    static_assert(std::is_constructible<P, A&&>::value,
                  "argument does not convert to the parameter type");
    result.value = encode_value<P>(P(std::forward<A>(x)), result.in_store);
  }
  return result;
}

template <class... Ps, class... As>
std::vector<call_arg> make_args(As&&... xs) {
  static_assert(sizeof...(Ps) == sizeof...(As),
                "wrong number of arguments for the remote call");
  std::vector<call_arg> result;
  result.reserve(sizeof...(As));
  (result.emplace_back(make_arg<std::decay_t<Ps>>(std::forward<As>(xs))), ...);
  return result;
}

/// Options shared by task and actor builders.
template <class Derived, class Options>
class resource_options {
public:
  /// CPUs needed (fractions allowed).
  Derived& num_cpus(double amount) {
    check_resource("CPU", amount);
    opts_.num_cpus = amount;
    return static_cast<Derived&>(*this);
  }

  /// GPUs needed (fractions allowed).
  Derived& num_gpus(double amount) {
    check_resource("GPU", amount);
    opts_.num_gpus = amount;
    return static_cast<Derived&>(*this);
  }

  /// Custom resources needed, e.g. {{"ssd", 1}}. CPUs and GPUs are asked
  /// for with `num_cpus` and `num_gpus` (as in Ray): naming them here throws
  /// `invalid_argument_error` instead of being overridden silently.
  Derived& resources(const std::map<std::string, double>& xs) {
    for (auto& [name, amount] : xs) {
      check_resource(name, amount);
      if (name == "CPU" || name == "GPU")
        throw invalid_argument_error(
          "resource '" + name + "' is asked for with "
          + (name == "CPU" ? "num_cpus()" : "num_gpus()")
          + ", not resources()");
    }
    for (auto& [name, amount] : xs)
      opts_.resources[name] = amount;
    return static_cast<Derived&>(*this);
  }

  /// Runs in bundle `bundle_index` of `group` (-1: any of its bundles),
  /// drawing on that bundle's resources only; waits while the group is
  /// pending. Throws `invalid_argument_error` for a bundle it does not have.
  Derived& placement_group(const placement_group_handle& group,
                           int64_t bundle_index = -1) {
    check_bundle(group, bundle_index);
    opts_.group = group.id();
    opts_.bundle = bundle_index;
    return static_cast<Derived&>(*this);
  }

protected:
  Options opts_;
};

} // namespace caraway::detail

namespace caraway {

template <class F>
class task_builder;

/// Builds a call of a registered function; `remote` submits it.
template <class R, class... Ps>
class task_builder<R (*)(Ps...)>
  : public detail::resource_options<task_builder<R (*)(Ps...)>,
                                    detail::task_options> {
public:
  using result_type = std::decay_t<R>;

  explicit task_builder(std::string name) : name_(std::move(name)) {
    // nop
  }

  /// Re-runs after a system failure (its node died), up to `n` times; -1
  /// for no limit. The default is 3. With `retry_exceptions`, exceptions
  /// the task throws count too.
  task_builder& max_retries(int n) {
    this->opts_.max_retries = detail::retry_count("max_retries", n);
    return *this;
  }

  /// Retries application exceptions too (not only system failures).
  task_builder& retry_exceptions(bool value = true) {
    this->opts_.retry_exceptions = value;
    return *this;
  }

  /// Where the task may run: `caraway::spread()` or
  /// `caraway::node_affinity(id, soft)`; the hybrid policy by default.
  task_builder& scheduling(scheduling_strategy strategy) {
    this->opts_.scheduling = std::move(strategy);
    return *this;
  }

  /// Submits the task; each argument is a value or an `object_ref`.
  template <class... As>
  object_ref<result_type> remote(As&&... xs) const {
    detail::nested_scope scope;
    auto args = detail::make_args<Ps...>(std::forward<As>(xs)...);
    auto id = detail::submit_task(name_, std::move(args), scope.take(),
                                  this->opts_);
    return object_ref<result_type>::adopt(id);
  }

private:
  std::string name_;
};

/// Starts a call of a function registered with `CARAWAY_REMOTE`; throws
/// `registration_error` if it is not registered.
template <class R, class... Ps>
task_builder<R (*)(Ps...)> task(R (*fn)(Ps...)) {
  auto key = detail::function_key(reinterpret_cast<void (*)()>(fn));
  return task_builder<R (*)(Ps...)>{
    detail::function_name(key, typeid(R(Ps...)))};
}

/// Starts a call of a function by its registered name and signature; a node
/// without it fails the task with an error naming it.
template <class Signature>
auto task(const std::string& name) {
  using fn_type = std::add_pointer_t<Signature>;
  return task_builder<fn_type>{name};
}

} // namespace caraway
