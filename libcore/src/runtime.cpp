// Starting and stopping caraway, and the entry points of the public API.

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

#include <caf/all.hpp>

#include "caraway/api.hpp"
#include "caraway/detail/core.hpp"
#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "caraway/node/executor.hpp"
#include "caraway/node/gcs.hpp"
#include "caraway/node/object_store.hpp"
#include "caraway/node/raylet.hpp"
#include "caraway/wire/bridge.hpp"
#include "core_worker.hpp"
#include "owner.hpp"
#include "registry.hpp"
#include "runner.hpp"

namespace caraway {

namespace {

struct runtime {
  std::unique_ptr<caf::actor_system_config> caf_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<core::core_worker> core;
  node::store_memory_ptr store;
  wire::gcs_actor gcs;
  wire::raylet_actor raylet;
  wire::owner_actor owner;
  wire::object_store_actor store_actor;
};

std::mutex runtime_mtx;
std::unique_ptr<runtime> active_runtime;
std::atomic<core::core_worker*> active_core{nullptr};

// The core of the last session stays until the next init: a thread that was
// inside get() during shutdown wakes up with an error instead of touching
// freed memory.
std::shared_ptr<core::core_worker> retired_core;

core::core_worker& require_core() {
  auto ptr = active_core.load();
  if (ptr == nullptr)
    throw error("caraway is not initialized: call caraway::init first");
  return *ptr;
}

uint64_t default_store_memory() {
  auto pages = sysconf(_SC_PHYS_PAGES);
  auto page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0)
    return uint64_t{1} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) * 3
         / 10;
}

void apply_caf_options(caf::actor_system_config& cfg,
                       const std::map<std::string, std::string>& options) {
  for (auto& [key, text] : options) {
    auto value = caf::config_value::parse(text);
    if (!value)
      throw invalid_argument_error("invalid value for CAF option '" + key
                                   + "': " + text);
    cfg.set(key, std::move(*value));
  }
}

std::unique_ptr<runtime> start_embedded(const config& cfg) {
  auto rt = std::make_unique<runtime>();
  rt->caf_cfg = std::make_unique<caf::actor_system_config>();
  // Measured: the sharing policy cuts message latency about 2.5x on small
  // machines compared to work stealing.
  rt->caf_cfg->set("scheduler.policy", caf::atom("sharing"));
  apply_caf_options(*rt->caf_cfg, cfg.caf);
  wire::add_message_types(*rt->caf_cfg);
  rt->sys = std::make_unique<caf::actor_system>(*rt->caf_cfg);
  auto& sys = *rt->sys;
  auto capacity = cfg.object_store_memory > 0 ? cfg.object_store_memory
                                              : default_store_memory();
  rt->store = std::make_shared<node::store_memory>(capacity, capacity);
  rt->core = std::make_shared<core::core_worker>(sys, cfg);
  auto run = std::make_shared<core::runner>(*rt->core);
  wire::node_info info;
  info.id = rt->core->next_id();
  auto cpus = cfg.num_cpus >= 0 ? cfg.num_cpus
                                : std::max(1u, std::thread::hardware_concurrency());
  info.total = {cfg.resources.begin(), cfg.resources.end()};
  info.total["CPU"] = cpus;
  if (cfg.num_gpus > 0)
    info.total["GPU"] = cfg.num_gpus;
  info.object_store_capacity = capacity;
  rt->gcs = sys.spawn(node::gcs);
  rt->store_actor = sys.spawn(node::object_store, rt->store);
  node::worker_factory factory;
  auto gcs = rt->gcs;
  auto sys_ptr = &sys;
  factory.spawn_executor = [sys_ptr, run](wire::raylet_actor raylet) {
    return sys_ptr->spawn<caf::detached>(node::executor, std::move(raylet),
                                         run);
  };
  factory.spawn_actor_host = [sys_ptr, run, gcs](wire::raylet_actor raylet,
                                                 const wire::actor_spec& spec,
                                                 uint64_t lease) {
    return sys_ptr->spawn<caf::detached>(node::actor_host, spec, lease,
                                         std::move(raylet), gcs, run);
  };
  rt->raylet = sys.spawn(node::raylet, info, cfg.max_workers,
                         std::move(factory));
  rt->owner = sys.spawn(core::owner, rt->core.get());
  rt->core->connect({rt->gcs, rt->raylet, rt->owner, rt->store});
  caf::anon_send(rt->gcs, wire::register_atom::value, info, rt->raylet);
  caf::anon_send(rt->gcs, wire::subscribe_atom::value, rt->owner);
  // The system's constructor pinned CAF's logger to this thread; unpin it, or
  // ~actor_system waits forever when shutdown runs on another thread.
  caf::logger::set_current_actor_system(nullptr);
  return rt;
}

void stop(runtime& rt) {
  rt.core->shutdown();
  // The raylet takes its executors and actor hosts along.
  caf::anon_send_exit(rt.raylet, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(rt.gcs, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(rt.store_actor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(rt.owner, caf::exit_reason::user_shutdown);
  rt.raylet = nullptr;
  rt.gcs = nullptr;
  rt.store_actor = nullptr;
  rt.owner = nullptr;
  // Waits until every executor returned from user code.
  rt.sys.reset();
}

} // namespace

session::session(session&& other) noexcept : active_(other.active_) {
  other.active_ = false;
}

session& session::operator=(session&& other) noexcept {
  if (this != &other) {
    if (active_)
      caraway::shutdown();
    active_ = other.active_;
    other.active_ = false;
  }
  return *this;
}

session::~session() {
  if (active_)
    caraway::shutdown();
}

void session::shutdown() {
  if (active_) {
    active_ = false;
    caraway::shutdown();
  }
}

session init(int argc, char** argv) {
  return init(parse_config(argc, argv));
}

session init(const config& cfg) {
  std::lock_guard<std::mutex> guard{runtime_mtx};
  if (active_runtime)
    throw error("caraway is already initialized: call shutdown() first");
  auto problems = core::registry::instance().problems();
  if (!problems.empty()) {
    std::string text = "invalid registrations:";
    for (auto& p : problems)
      text += "\n  " + p;
    throw registration_error(text);
  }
  log::level lvl;
  if (!log::parse_level(cfg.log_level, lvl))
    throw invalid_argument_error("unknown log level '" + cfg.log_level + "'");
  log::threshold = static_cast<int>(lvl);
  if (!cfg.address.empty())
    throw error("cannot connect to the cluster at " + cfg.address
                + ": this build runs embedded clusters only");
  for (auto& [name, amount] : cfg.resources)
    detail::check_resource(name, amount);
  if (std::isnan(cfg.num_cpus) || std::isinf(cfg.num_cpus))
    throw invalid_argument_error("num_cpus must be a finite number");
  detail::check_resource("GPU", cfg.num_gpus);
  retired_core.reset();
  auto rt = start_embedded(cfg);
  active_core = rt->core.get();
  active_runtime = std::move(rt);
  CARAWAY_LOG(info, runtime) << "embedded cluster started";
  return session{true};
}

void shutdown() {
  std::unique_ptr<runtime> rt;
  {
    std::lock_guard<std::mutex> guard{runtime_mtx};
    rt = std::move(active_runtime);
  }
  if (!rt)
    return;
  // From here on, API calls (also from tasks still running) fail cleanly
  // instead of reaching into a system being torn down.
  active_core = nullptr;
  stop(*rt);
  std::lock_guard<std::mutex> guard{runtime_mtx};
  retired_core = std::move(rt->core);
  rt.reset();
}

bool is_initialized() {
  return active_core.load() != nullptr;
}

store_stats object_store_stats() {
  std::lock_guard<std::mutex> guard{runtime_mtx};
  if (!active_runtime)
    throw error("caraway is not initialized: call caraway::init first");
  auto st = active_runtime->store->get_stats();
  return {st.used_bytes, st.capacity_bytes, st.objects, st.pooled_bytes};
}

namespace {

wire::node_info node_status() {
  // Held throughout: shutdown must not destroy the system meanwhile.
  std::lock_guard<std::mutex> guard{runtime_mtx};
  if (!active_runtime)
    throw error("caraway is not initialized: call caraway::init first");
  auto& raylet = active_runtime->raylet;
  auto sys = active_runtime->sys.get();
  auto timeout_ms = active_runtime->core->cfg().request_timeout_ms;
  wire::node_info result;
  bool ok = false;
  core::with_scoped_actor(*sys, [&](caf::scoped_actor& self) {
    self->request(raylet, std::chrono::milliseconds(timeout_ms),
                  wire::status_atom::value)
      .receive(
        [&](wire::node_info& info) {
          result = std::move(info);
          ok = true;
        },
        [&](caf::error&) {});
  });
  if (!ok)
    throw error("the raylet did not report its status");
  return result;
}

} // namespace

std::map<std::string, double> cluster_resources() {
  return node_status().total;
}

std::map<std::string, double> available_resources() {
  return node_status().available;
}

} // namespace caraway

namespace caraway::detail {

namespace {

thread_local nested_scope* current_scope = nullptr;

} // namespace

nested_scope::nested_scope() : prev_(current_scope) {
  current_scope = this;
}

nested_scope::~nested_scope() {
  current_scope = prev_;
  for (auto& id : ids_)
    remove_ref(id);
}

std::vector<wire::object_id> nested_scope::take() {
  std::vector<wire::object_id> result;
  result.swap(ids_);
  return result;
}

void nested_scope::add(const wire::object_id& id) {
  add_ref(id);
  ids_.emplace_back(id);
}

void add_ref(const wire::object_id& id) noexcept {
  if (auto core = active_core.load())
    core->objects().add_ref(id);
}

void remove_ref(const wire::object_id& id) noexcept {
  if (auto core = active_core.load())
    core->objects().remove_ref(id);
}

void note_nested_ref(const wire::object_id& id) {
  if (current_scope != nullptr && !id.nil())
    current_scope->add(id);
}

wire::buffer_ptr allocate_value(size_t size, bool& in_store) {
  if (auto core = active_core.load())
    return core->allocate(size, in_store);
  in_store = false;
  return std::make_shared<wire::buffer>(size);
}

std::vector<char>& scratch_buffer() {
  thread_local std::vector<char> result;
  return result;
}

void throw_codec_error(const char* what, const std::type_info& ti,
                       const std::string& why) {
  throw invalid_argument_error(std::string{"cannot "} + what
                               + " a value of type " + type_key(ti) + ": "
                               + why);
}

void check_resource(const std::string& name, double amount) {
  if (name.empty())
    throw invalid_argument_error("a resource name must not be empty");
  if (std::isnan(amount) || std::isinf(amount) || amount < 0)
    throw invalid_argument_error("resource '" + name
                                 + "' needs a finite, non-negative amount, got "
                                 + std::to_string(amount));
}

wire::object_id submit_task(const std::string& function,
                            std::vector<call_arg> args,
                            std::vector<wire::object_id> nested,
                            const task_options& opts) {
  return require_core().submit_task(function, std::move(args),
                                    std::move(nested), opts);
}

wire::object_id submit_method(const wire::actor_id& actor,
                              const std::string& method,
                              std::vector<call_arg> args,
                              std::vector<wire::object_id> nested) {
  return require_core().submit_method(actor, method, std::move(args),
                                      std::move(nested));
}

wire::actor_id create_actor(const std::string& class_name,
                            std::vector<std::string> ctor_key,
                            std::vector<call_arg> args,
                            std::vector<wire::object_id> nested,
                            const actor_options& opts) {
  return require_core().create_actor(class_name, std::move(ctor_key),
                                     std::move(args), std::move(nested), opts);
}

std::optional<wire::actor_id>
find_actor(const std::string& class_name, const std::string& name,
           const std::optional<std::string>& ns) {
  return require_core().find_actor(class_name, name, ns);
}

void kill_actor(const wire::actor_id& actor) {
  require_core().kill_actor(actor);
}

wire::object_id put_value(wire::buffer_ptr value, bool in_store,
                          std::vector<wire::object_id> nested) {
  return require_core().put(std::move(value), in_store, std::move(nested));
}

namespace {

[[noreturn]] void throw_not_ready(core::core_worker& core,
                                  const wire::object_id& id,
                                  timeout_type timeout) {
  if (core.objects().stopped())
    throw error("caraway shut down while waiting for object "
                + wire::to_string(id));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  throw timeout_error("get timed out after " + std::to_string(ms.count())
                      + " ms waiting for object " + wire::to_string(id));
}

} // namespace

wire::buffer_ptr get_value(const wire::object_id& id, timeout_type timeout) {
  if (id.nil())
    throw invalid_argument_error("get of an empty object_ref");
  auto& core = require_core();
  auto ready = core.wait({id}, 1, timeout);
  if (!ready[0])
    throw_not_ready(core, id, timeout);
  return core.value_of(id);
}

std::vector<wire::buffer_ptr> get_values(const std::vector<wire::object_id>& ids,
                                         timeout_type timeout) {
  for (auto& id : ids)
    if (id.nil())
      throw invalid_argument_error("get of an empty object_ref");
  auto& core = require_core();
  auto ready = core.wait(ids, ids.size(), timeout);
  for (size_t i = 0; i < ids.size(); ++i)
    if (!ready[i])
      throw_not_ready(core, ids[i], timeout);
  std::vector<wire::buffer_ptr> result;
  result.reserve(ids.size());
  for (auto& id : ids)
    result.emplace_back(core.value_of(id));
  return result;
}

std::vector<bool> wait_values(const std::vector<wire::object_id>& ids,
                              size_t num_returns, timeout_type timeout) {
  auto& core = require_core();
  return core.wait(ids, num_returns, timeout);
}

} // namespace caraway::detail
