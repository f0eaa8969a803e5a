#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "caraway/array_view.hpp"
#include "caraway/config.hpp"
#include "caraway/detail/codec.hpp"
#include "caraway/detail/core.hpp"
#include "caraway/detail/registry.hpp"
#include "caraway/error.hpp"
#include "caraway/object_ref.hpp"

namespace caraway {

/// Keeps caraway running; shuts it down when it goes out of scope.
class session {
public:
  session() noexcept = default;
  session(session&& other) noexcept;
  session& operator=(session&& other) noexcept;
  session(const session&) = delete;
  session& operator=(const session&) = delete;
  ~session();

  /// Shuts caraway down now instead of at scope exit.
  void shutdown();

private:
  friend session init(const config&);
  explicit session(bool active) noexcept : active_(active) {
  }
  bool active_ = false;
};

/// Starts caraway from `--caraway-...` flags and the config file they name.
/// Without an address, starts an embedded single-node cluster.
session init(int argc, char** argv);

/// Starts caraway from a config.
session init(const config& cfg);

/// Stops caraway: running tasks finish, waiting `get`s fail.
void shutdown();

/// True between `init` and `shutdown`.
bool is_initialized();

/// Where this process' embedded cluster serves its web dashboard
/// (`http://127.0.0.1:PORT/`, with `dashboard_port`); empty if it serves
/// none or caraway is not initialized.
std::string dashboard_url();

/// Id of the node the calling code runs on (32 hex digits); empty in the
/// driver of a cluster, which is no node.
std::string node_id();

/// The namespace named actors are created and looked up in by default: the
/// session's (`--caraway-namespace`), also inside its tasks and actors.
std::string get_namespace();

/// In an actor's constructor or method: true if this instance of the actor
/// was made again after a failure (`max_restarts`). False elsewhere.
bool was_restarted();

/// What this process' object store holds.
struct store_stats {
  uint64_t used_bytes = 0;     // bytes of live objects
  uint64_t capacity_bytes = 0; // the configured cap
  uint64_t objects = 0;        // objects stored
  uint64_t pooled_bytes = 0;   // freed memory kept for reuse
  uint64_t pulled_objects = 0; // objects copied in from other nodes
  uint64_t pulled_bytes = 0;   // their bytes
  uint64_t pull_nanoseconds = 0; // time spent pulling them
};

/// Reads the local object store's counters.
store_stats object_store_stats();

/// Resources of the cluster's live nodes, summed: {"CPU": 2, ...}.
std::map<std::string, double> cluster_resources();

/// Resources not in use right now, summed over the live nodes.
std::map<std::string, double> available_resources();

/// Cancels the task that makes `ref`. One that has not started (waiting for
/// its arguments or a worker) never runs; one running is flagged, and
/// `cancelled()` inside it says so, so that it can stop early. Either way
/// `get` throws `cancelled_error` (unless it finished first, or returns a
/// value holding refs). With `recursive`, the tasks it submitted are
/// cancelled too. A finished task, an actor call or an unknown ref: nothing
/// happens. `force` (killing the task's worker) needs worker processes,
/// which this version does not have: it throws `invalid_argument_error`.
template <class T>
void cancel(const object_ref<T>& ref, bool force = false,
            bool recursive = true) {
  detail::cancel_task(ref.id(), force, recursive);
}

/// Inside a task: whether it was cancelled (false outside tasks).
bool cancelled();

/// A node of the cluster, as Ray's `ray.nodes()` lists it.
struct node_view {
  std::string id;      // 32 hex digits, as `node_id()` and node_affinity take
  std::string address; // host:port; empty for an embedded node
  bool alive = true;
  std::map<std::string, double> total;
  std::map<std::string, double> available; // as last reported
};

/// Every node the cluster knows, dead ones included (`alive` false).
std::vector<node_view> nodes();

/// Stores a value; large values go to the object store.
template <class T>
object_ref<std::decay_t<T>> put(T&& value) {
  using value_type = std::decay_t<T>;
  detail::nested_scope scope;
  bool in_store = false;
  auto buf = detail::encode_value<value_type>(value, in_store);
  auto id = detail::put_value(std::move(buf), in_store, scope.take());
  return object_ref<value_type>::adopt(id);
}

namespace detail {

template <class T>
T decode_buffer(const wire::buffer_ptr& buf) {
  return decode_value<T>(buf->data(), buf->size());
}

inline timeout_type to_timeout(std::chrono::nanoseconds x) {
  return x < std::chrono::nanoseconds::zero() ? std::chrono::nanoseconds::zero()
                                              : x;
}

} // namespace detail

/// Waits for the object and returns a copy of its value; throws the error of
/// the task that made it.
template <class T>
T get(const object_ref<T>& ref) {
  auto buf = detail::get_value(ref.id(), detail::infinite_timeout);
  if constexpr (!std::is_void<T>::value)
    return detail::decode_buffer<T>(buf);
}

/// Like `get`, but throws `timeout_error` after `timeout`.
template <class T, class Rep, class Period>
T get(const object_ref<T>& ref, std::chrono::duration<Rep, Period> timeout) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout);
  auto buf = detail::get_value(ref.id(), detail::to_timeout(ns));
  if constexpr (!std::is_void<T>::value)
    return detail::decode_buffer<T>(buf);
}

namespace detail {

template <class T>
struct view_of {
  static constexpr bool ok = false;
};

template <class U, class A>
struct view_of<std::vector<U, A>> {
  static constexpr bool ok = is_raw_element<U>::value;
  using type = U;
};

template <>
struct view_of<std::string> {
  static constexpr bool ok = true;
  using type = char;
};

template <class T>
auto make_view(const wire::object_id& id, timeout_type timeout) {
  static_assert(view_of<T>::ok,
                "get_view needs an object_ref<std::vector<T>> whose T is an "
                "arithmetic type (not bool), an enum or a trivially copyable "
                "standard-layout struct, or an object_ref<std::string>: "
                "other values are stored serialized; use get()");
  using elem = typename view_of<T>::type;
  static_assert(alignof(elem) <= alignof(uint64_t),
                "get_view: elements stored after an 8-byte length can be "
                "aligned to at most 8 bytes; use get()");
  auto buf = get_value(id, timeout);
  uint64_t n = 0;
  if (buf->size() < sizeof(uint64_t))
    throw_codec_error("view", typeid(T), "truncated");
  std::memcpy(&n, buf->data(), sizeof(uint64_t));
  if ((buf->size() - sizeof(uint64_t)) / sizeof(elem) != n)
    throw_codec_error("view", typeid(T), "size mismatch");
  auto data = reinterpret_cast<const elem*>(buf->data() + sizeof(uint64_t));
  return array_view<elem>{std::move(buf), data, static_cast<size_t>(n)};
}

} // namespace detail

/// Waits for a stored vector (of arithmetic values, enums or trivially
/// copyable structs) or string and returns a read-only view of its
/// elements, with no copy: the view points into the object store's memory
/// (shared by the worker processes of a node) and keeps the object alive
/// while it lives. Other value types fail to compile.
template <class T>
auto get_view(const object_ref<T>& ref) {
  return detail::make_view<T>(ref.id(), detail::infinite_timeout);
}

/// Like `get_view`, but throws `timeout_error` after `timeout`.
template <class T, class Rep, class Period>
auto get_view(const object_ref<T>& ref,
              std::chrono::duration<Rep, Period> timeout) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout);
  return detail::make_view<T>(ref.id(), detail::to_timeout(ns));
}

/// Waits for all objects; returns their values in order.
template <class T>
std::vector<T> get(const std::vector<object_ref<T>>& refs) {
  std::vector<wire::object_id> ids;
  ids.reserve(refs.size());
  for (auto& ref : refs)
    ids.emplace_back(ref.id());
  auto bufs = detail::get_values(ids, detail::infinite_timeout);
  std::vector<T> result;
  result.reserve(bufs.size());
  for (auto& buf : bufs)
    result.emplace_back(detail::decode_buffer<T>(buf));
  return result;
}

/// Like `get` of many, but throws `timeout_error` after `timeout`.
template <class T, class Rep, class Period>
std::vector<T> get(const std::vector<object_ref<T>>& refs,
                   std::chrono::duration<Rep, Period> timeout) {
  std::vector<wire::object_id> ids;
  for (auto& ref : refs)
    ids.emplace_back(ref.id());
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout);
  auto bufs = detail::get_values(ids, detail::to_timeout(ns));
  std::vector<T> result;
  for (auto& buf : bufs)
    result.emplace_back(detail::decode_buffer<T>(buf));
  return result;
}

/// Waits until `num_returns` of `refs` are ready or `timeout` passes. Returns
/// at most `num_returns` ready refs and the rest as pending, each in the
/// order of `refs`.
template <class T, class Rep, class Period>
wait_result<T> wait(const std::vector<object_ref<T>>& refs, size_t num_returns,
                    std::chrono::duration<Rep, Period> timeout) {
  if (num_returns > refs.size())
    throw invalid_argument_error("wait: num_returns exceeds the number of refs");
  std::vector<wire::object_id> ids;
  ids.reserve(refs.size());
  for (auto& ref : refs)
    ids.emplace_back(ref.id());
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout);
  auto ready = detail::wait_values(ids, num_returns, detail::to_timeout(ns));
  wait_result<T> result;
  size_t taken = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (ready[i] && taken < num_returns) {
      result.ready.emplace_back(refs[i]);
      ++taken;
    } else {
      result.pending.emplace_back(refs[i]);
    }
  }
  return result;
}

/// Waits without a time limit.
template <class T>
wait_result<T> wait(const std::vector<object_ref<T>>& refs,
                    size_t num_returns) {
  return wait(refs, num_returns, std::chrono::hours(24 * 365));
}

} // namespace caraway
