#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <vector>

#include "caraway/task.hpp"

namespace caraway {

/// How long an actor lives: with the process that created it (`owned`, the
/// default, as Ray's non-detached actors), or until killed (`detached`).
enum class actor_lifetime { owned, detached };

inline constexpr actor_lifetime owned = actor_lifetime::owned;
inline constexpr actor_lifetime detached = actor_lifetime::detached;

template <class C>
class actor_handle;

/// Builds a call of one actor method; `remote` submits it.
template <class C, class R, class... Ps>
class method_builder {
public:
  using result_type = std::decay_t<R>;

  method_builder(wire::actor_id actor, std::string name)
    : actor_(actor), name_(std::move(name)) {
    // nop
  }

  /// Submits the call. Calls from one caller run in submission order.
  template <class... As>
  object_ref<result_type> remote(As&&... xs) const {
    detail::nested_scope scope;
    auto args = detail::make_args<Ps...>(std::forward<As>(xs)...);
    auto id = detail::submit_method(actor_, name_, std::move(args),
                                    scope.take());
    return object_ref<result_type>::adopt(id);
  }

private:
  wire::actor_id actor_;
  std::string name_;
};

/// A handle to a live actor; copy it freely, pass it to tasks and actors.
/// Handles are counted like object refs, in every process that holds one:
/// an actor that is not detached ends once the last handle to it anywhere
/// is gone and its calls are answered.
template <class C>
class actor_handle : public detail::counted_id {
public:
  actor_handle() noexcept = default;

  /// A handle to the actor with this id, counted as one more.
  explicit actor_handle(wire::actor_id id) {
    if (!id.nil())
      detail::add_ref(id);
    take_counted(id);
  }

  /// Takes over a reference that the caller already counted.
  static actor_handle adopt(const wire::actor_id& id) noexcept {
    actor_handle result;
    result.take_counted(id);
    return result;
  }

  /// Starts a call of a method registered with `CARAWAY_ACTOR`.
  template <class B, class R, class... Ps>
  method_builder<C, R, Ps...> task(R (B::*method)(Ps...)) const {
    return {id_, lookup(method, typeid(R(Ps...)))};
  }

  template <class B, class R, class... Ps>
  method_builder<C, R, Ps...> task(R (B::*method)(Ps...) const) const {
    return {id_, lookup(method, typeid(R(Ps...)))};
  }

  const wire::actor_id& id() const noexcept {
    return id_;
  }

  bool valid() const noexcept {
    return !id_.nil();
  }

  friend bool operator==(const actor_handle& x, const actor_handle& y) {
    return x.id_ == y.id_;
  }

  /// Lets handles travel inside values: the receiver counts its own.
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f,
                                                 actor_handle& x) {
    return x.inspect_id(f);
  }

private:
  template <class M>
  static std::string lookup(M method, const std::type_info& sig) {
    return detail::method_name(std::type_index{typeid(C)},
                               detail::member_key(method), sig);
  }
};

/// Builds the creation of an actor; `remote` creates it.
template <class C>
class actor_builder
  : public detail::resource_options<actor_builder<C>, detail::actor_options> {
public:
  actor_builder(std::vector<std::string> key, std::vector<detail::call_arg> args,
                std::vector<wire::object_id> nested)
    : key_(std::move(key)), args_(std::move(args)), nested_(std::move(nested)) {
    // nop
  }

  actor_builder(actor_builder&&) = default;
  actor_builder& operator=(actor_builder&&) = default;

  ~actor_builder() {
    // Refs nested in constructor arguments of an actor never created.
    for (auto& id : nested_)
      detail::remove_ref(id);
  }

  /// Names the actor so that others find it with `get_actor`.
  actor_builder& name(std::string value) {
    if (value.empty())
      throw invalid_argument_error("an actor name must not be empty");
    this->opts_.name = std::move(value);
    return *this;
  }

  /// Names the actor within a namespace.
  actor_builder& name(std::string value, std::string ns) {
    name(std::move(value));
    this->opts_.ns = std::move(ns);
    return *this;
  }

  /// `detached`: the actor lives until killed or the cluster stops. By
  /// default (`owned`) it dies with the process that created it: the driver
  /// when its job ends, or the node process of the task that made it.
  actor_builder& lifetime(actor_lifetime value) {
    this->opts_.detached = value == actor_lifetime::detached;
    return *this;
  }

  /// With a name: returns the live actor of that name in the namespace, if
  /// there is one (its constructor arguments are not used), instead of
  /// failing because the name is taken.
  actor_builder& get_if_exists(bool value = true) {
    this->opts_.get_if_exists = value;
    return *this;
  }

  /// Makes the actor again, constructor and all, up to `n` times (-1: no
  /// limit) when its node or host dies. Default 0.
  actor_builder& max_restarts(int n) {
    this->opts_.max_restarts = detail::retry_count("max_restarts", n);
    return *this;
  }

  /// Sends a call that was in flight during a restart again, up to `n`
  /// times (-1: no limit); otherwise it fails with `actor_died_error`.
  /// Default 0.
  actor_builder& max_task_retries(int n) {
    this->opts_.max_task_retries = detail::retry_count("max_task_retries", n);
    return *this;
  }

  /// Where the actor runs: `caraway::spread()` (the nodes with room one
  /// after another) or `caraway::node_affinity(id, soft)`; by default the
  /// least used node with room.
  actor_builder& scheduling(scheduling_strategy strategy) {
    this->opts_.scheduling = std::move(strategy);
    return *this;
  }

  /// Lets up to `n` method calls run at once.
  actor_builder& max_concurrency(uint32_t n) {
    if (n == 0)
      throw invalid_argument_error("max_concurrency must be at least 1");
    this->opts_.max_concurrency = n;
    return *this;
  }

  /// Creates the actor. Calls made before it is ready wait for it.
  actor_handle<C> remote() {
    auto& class_name = detail::actor_class_name(std::type_index{typeid(C)});
    auto nested = std::move(nested_);
    nested_.clear();
    auto id = detail::create_actor(class_name, std::move(key_),
                                   std::move(args_), std::move(nested),
                                   this->opts_);
    return actor_handle<C>::adopt(id);
  }

private:
  std::vector<std::string> key_;
  std::vector<detail::call_arg> args_;
  std::vector<wire::object_id> nested_;
};

namespace detail {

template <class T>
struct ctor_param {
  using type = ctor_arg_t<T>;
};

template <class T>
struct ctor_param<object_ref<T>> {
  using type = T;
};

template <class T>
using ctor_param_t = typename ctor_param<std::decay_t<T>>::type;

} // namespace detail

/// Starts the creation of an actor of a class registered with
/// `CARAWAY_ACTOR`; the arguments pick the constructor by their types.
template <class C, class... As>
actor_builder<C> actor(As&&... xs) {
  detail::nested_scope scope;
  std::vector<std::string> key{
    detail::type_key(typeid(detail::ctor_param_t<As>))...};
  auto args = detail::make_args<detail::ctor_param_t<As>...>(
    std::forward<As>(xs)...);
  auto nested = scope.take();
  // Ref arguments stay alive until the constructor has run.
  for (auto& arg : args) {
    if (arg.is_ref) {
      detail::add_ref(arg.ref);
      nested.emplace_back(arg.ref);
    }
  }
  return actor_builder<C>{std::move(key), std::move(args), std::move(nested)};
}

/// The live actor named `name` in namespace `ns` (the session's namespace by
/// default), if there is one of class `C`.
template <class C>
std::optional<actor_handle<C>>
get_actor(const std::string& name,
          const std::optional<std::string>& ns = std::nullopt) {
  auto id = detail::find_actor(
    detail::actor_class_name(std::type_index{typeid(C)}), name, ns);
  if (!id)
    return std::nullopt;
  return actor_handle<C>{*id};
}

/// Stops the actor; its pending and later calls fail with
/// `actor_died_error`. With `no_restart` false, an actor that has restarts
/// left (`max_restarts`) is made again instead, as after a failure.
template <class C>
void kill(const actor_handle<C>& handle, bool no_restart = true) {
  detail::kill_actor(handle.id(), no_restart);
}

} // namespace caraway
