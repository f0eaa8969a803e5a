// Starting and stopping caraway, and the entry points of the public API.

#include <unistd.h>

#include <future>

#include <atomic>
#include <cmath>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/api.hpp"
#include "caraway/detail/core.hpp"
#include "caraway/detail/libraries.hpp"
#include "caraway/detail/node.hpp"
#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "caraway/node/data_server.hpp"
#include "caraway/node/executor.hpp"
#include "caraway/node/gcs.hpp"
#include "caraway/node/object_store.hpp"
#include "caraway/node/raylet.hpp"
#include "caraway/wire/bridge.hpp"
#include "caraway/wire/connect.hpp"
#include "caraway/wire/io_thread.hpp"
#include "owner/core_worker.hpp"
#include "owner/service.hpp"
#include "registry.hpp"
#include "runner.hpp"
#include "runtime.hpp"

namespace caraway {

namespace {

struct runtime {
  std::unique_ptr<caf::actor_system_config> caf_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<owner::core_worker> core;
  node::store_memory_ptr store;
  wire::gcs_actor gcs;
  wire::raylet_actor raylet;
  wire::owner_actor owner;
  wire::object_store_actor store_actor;
  // The data path of a cluster process: serves its objects, pulls others'.
  std::unique_ptr<node::data_server> data;
  std::shared_ptr<node::object_puller> puller;
  // A driver or worker borrows the gcs (and a driver the raylet) of others:
  // shutdown must leave those alone.
  bool owns_gcs = true;
  bool owns_raylet = true;
  // One node in this process and no other: its raylet knows the cluster.
  bool embedded = false;
  // Set when the raylet has stopped (a cluster node waits for it).
  std::shared_ptr<std::promise<void>> raylet_stopped;
  std::shared_future<void> raylet_stopped_future;
};

std::mutex runtime_mtx;
std::unique_ptr<runtime> active_runtime;
std::atomic<owner::core_worker*> active_core{nullptr};

// The core of the last session stays until the next init: a thread that was
// inside get() during shutdown wakes up with an error instead of touching
// freed memory.
std::shared_ptr<owner::core_worker> retired_core;

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

void start_components(runtime& rt, const config& cfg,
                      const detail::node_options* node,
                      detail::node_started* started);

// Results from other processes arrive on the middleman's I/O thread; the
// owner takes them there unless `io_thread_actors` is off.
wire::owner_actor spawn_owner(runtime& rt, const config& cfg,
                              std::string own_address) {
  auto& sys = *rt.sys;
  if (cfg.io_thread_actors && sys.has_middleman())
    return wire::spawn_on_io_thread<
      owner::service_actor::stateful_base<owner::service_state>>(
      sys, owner::service, rt.core.get(), std::move(own_address));
  return sys.spawn(owner::service, rt.core.get(), std::move(own_address));
}

// Starts serving this process' objects to other processes and pulling
// theirs. A node serves on its own host; a driver on the address that
// routes to the head. Returns the address peers pull from.
std::string start_data_path(runtime& rt, const config& cfg,
                            const detail::node_options* node) {
  node::data_server::options opts;
  std::string head = node != nullptr ? node->head_address : cfg.address;
  std::string head_host;
  uint16_t head_port = 0;
  std::string why;
  if (wire::split_address(head, head_host, head_port, why))
    opts.peer = head_host;
  if (node != nullptr) {
    opts.host = node->host;
    opts.port = node->data_port;
  } else {
    opts.host = node::local_address_towards(opts.peer);
  }
  try {
    rt.data = std::make_unique<node::data_server>(rt.store, opts);
  } catch (const std::exception& e) {
    throw error(e.what());
  }
  node::object_puller::options pull_opts;
  pull_opts.timeout = std::chrono::milliseconds(cfg.request_timeout_ms);
  rt.puller = std::make_shared<node::object_puller>(rt.store, pull_opts);
  return rt.data->address();
}

// Stops whatever a failed start got running, so the system can go away.
void abort_start(runtime& rt) {
  if (rt.data)
    rt.data->stop();
  std::vector<caf::actor> owned{caf::actor_cast<caf::actor>(rt.store_actor),
                                caf::actor_cast<caf::actor>(rt.owner)};
  if (rt.owns_raylet)
    owned.emplace_back(caf::actor_cast<caf::actor>(rt.raylet));
  if (rt.owns_gcs)
    owned.emplace_back(caf::actor_cast<caf::actor>(rt.gcs));
  for (auto& hdl : owned)
    if (hdl)
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  rt.raylet = nullptr;
  rt.gcs = nullptr;
  rt.store_actor = nullptr;
  rt.owner = nullptr;
  if (rt.core)
    rt.core->shutdown();
  rt.sys.reset();
}

std::string render(caf::actor_system& sys, const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return sys.render(err);
}

// Starts the components of one node: embedded without `node`, else the head
// or a worker of a cluster.
std::unique_ptr<runtime>
start_embedded(const config& cfg, const detail::node_options* node = nullptr,
               detail::node_started* started = nullptr) {
  auto rt = std::make_unique<runtime>();
  rt->embedded = node == nullptr && cfg.address.empty();
  rt->caf_cfg = std::make_unique<caf::actor_system_config>();
  // Measured: the sharing policy cuts message latency about 2.5x on small
  // machines compared to work stealing.
  rt->caf_cfg->set("scheduler.policy", caf::atom("sharing"));
  if (node != nullptr || !cfg.address.empty()) {
    rt->caf_cfg->load<caf::io::middleman>();
    // Measured: the I/O thread deserializing messages itself saves handing
    // each to a scheduler thread first (15-40 us per message on a 2-core
    // VM). caraway's messages are small (bulk data has its own data path),
    // so the I/O thread keeps up.
    rt->caf_cfg->set("middleman.workers", size_t{0});
    // CAF sends no heartbeats by default: a frozen peer would never be
    // noticed.
    detail::node_options defaults;
    auto& timing = node != nullptr ? *node : defaults;
    rt->caf_cfg->set(
      "middleman.heartbeat-interval",
      caf::timespan{std::chrono::milliseconds(timing.heartbeat_interval_ms)});
    rt->caf_cfg->set(
      "middleman.connection-timeout",
      caf::timespan{std::chrono::milliseconds(timing.heartbeat_timeout_ms)});
  }
  apply_caf_options(*rt->caf_cfg, cfg.caf);
  wire::add_message_types(*rt->caf_cfg);
  rt->sys = std::make_unique<caf::actor_system>(*rt->caf_cfg);
  try {
    start_components(*rt, cfg, node, started);
  } catch (...) {
    abort_start(*rt);
    caf::logger::set_current_actor_system(nullptr);
    throw;
  }
  // The system's constructor pinned CAF's logger to this thread; unpin it, or
  // ~actor_system waits forever when shutdown runs on another thread.
  caf::logger::set_current_actor_system(nullptr);
  return rt;
}

void start_components(runtime& rt_ref, const config& cfg,
                      const detail::node_options* node,
                      detail::node_started* started) {
  auto rt = &rt_ref;
  auto& sys = *rt->sys;
  auto capacity = cfg.object_store_memory > 0 ? cfg.object_store_memory
                                              : default_store_memory();
  rt->store = std::make_shared<node::store_memory>(capacity, capacity);
  // A cluster's driver waits for results from other processes: its get
  // spins long enough to cover a remote round trip.
  auto core_cfg = cfg;
  if (node == nullptr && !cfg.address.empty())
    core_cfg.get_spin_us = cfg.cluster_get_spin_us;
  rt->core = std::make_shared<owner::core_worker>(sys, core_cfg);
  auto run = std::make_shared<core::runner>(*rt->core);
  wire::node_info info;
  info.id = rt->core->next_id();
  auto cpus = cfg.num_cpus >= 0
                ? cfg.num_cpus
                : std::max(1u, std::thread::hardware_concurrency());
  info.total = {cfg.resources.begin(), cfg.resources.end()};
  info.total["CPU"] = cpus;
  if (cfg.num_gpus > 0)
    info.total["GPU"] = cfg.num_gpus;
  info.object_store_capacity = capacity;
  auto driver = node == nullptr && !cfg.address.empty();
  if (node != nullptr ? node->head : !driver) {
    rt->gcs = sys.spawn(node::gcs);
  } else {
    auto& address = driver ? cfg.address : node->head_address;
    auto timeout = driver ? cfg.connect_timeout_ms : node->connect_timeout_ms;
    std::string host;
    uint16_t port = 0;
    std::string why;
    if (!wire::split_address(address, host, port, why))
      throw invalid_argument_error("invalid head address: " + why);
    auto gcs = wire::connect_gcs(sys, host, port,
                                 std::chrono::milliseconds(timeout),
                                 /*retry=*/true);
    if (!gcs)
      throw error(render(sys, gcs.error()));
    rt->gcs = std::move(*gcs);
    rt->owns_gcs = false;
  }
  rt->store_actor = sys.spawn(node::object_store, rt->store);
  std::string data_address;
  if (node != nullptr || driver)
    data_address = start_data_path(*rt, cfg, node);
  if (driver) {
    // A driver runs no raylet: it submits to one the gcs names.
    std::string failure;
    rt->owner = spawn_owner(rt_ref, cfg, std::string{});
    auto libraries = detail::job_libraries(cfg);
    for (auto& path : libraries)
      CARAWAY_LOG(info, runtime)
        << "announcing library" << log::kv("path", path);
    owner::with_scoped_actor(sys, [&](caf::scoped_actor& self) {
      // The gcs answers once the nodes loaded the libraries: a request, not
      // a connection attempt, hence the request timeout.
      self
        ->request(rt->gcs, std::chrono::milliseconds(cfg.request_timeout_ms),
                  wire::job_atom::value,
                  "driver pid " + std::to_string(getpid()), rt->owner,
                  std::move(libraries))
        .receive(
          [&](uint64_t job, wire::raylet_actor& raylet) {
            CARAWAY_LOG(info, runtime)
              << "joined the cluster" << log::kv("job", job);
            rt->raylet = std::move(raylet);
          },
          [&](caf::error& err) { failure = render(sys, err); });
    });
    if (!rt->raylet)
      throw error("cannot join the cluster at " + cfg.address + ": " + failure);
    rt->owns_raylet = false;
    rt->core->connect({rt->gcs, rt->raylet, rt->owner, rt->store,
                       rt->store_actor, rt->puller, data_address});
    caf::anon_send(rt->gcs, wire::subscribe_atom::value, rt->owner);
    return;
  }
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
  factory.load_libraries = [](const std::vector<std::string>& paths) {
    auto failed = detail::load_libraries(paths);
    for (auto& why : failed)
      CARAWAY_LOG(error, runtime)
        << why << "; tasks that need it fail on this node";
    return failed;
  };
  // Tasks from other processes arrive on the I/O thread; so may the raylet.
  // Its handlers do not block, except that loading a job's libraries holds
  // up this node's network traffic until they are loaded.
  if (cfg.io_thread_actors && sys.has_middleman())
    rt->raylet = wire::spawn_on_io_thread<
      node::raylet_impl::stateful_base<node::raylet_state>>(
      sys, node::raylet, info, cfg.max_workers, std::move(factory), rt->gcs);
  else
    rt->raylet = sys.spawn(node::raylet, info, cfg.max_workers,
                           std::move(factory), rt->gcs);
  if (node != nullptr) {
    // The head listens with its gcs, a worker with its raylet: peers reach
    // each node at its own address.
    auto published = node->head
                       ? sys.middleman().publish(rt->gcs, node->port,
                                                 node->host.c_str(), false)
                       : sys.middleman().publish(rt->raylet, node->port,
                                                 node->host.c_str(), false);
    if (!published)
      throw error("cannot listen on " + node->host + ":"
                  + std::to_string(node->port) + ": "
                  + render(sys, published.error()));
    info.address = node->host + ":" + std::to_string(*published);
    if (started != nullptr) {
      started->port = *published;
      started->node_id = wire::to_string(info.id);
    }
  }
  rt->raylet_stopped = std::make_shared<std::promise<void>>();
  rt->raylet_stopped_future = rt->raylet_stopped->get_future().share();
  auto stopped = rt->raylet_stopped;
  caf::actor_cast<caf::abstract_actor*>(rt->raylet)->attach_functor([stopped] {
    stopped->set_value();
  });
  rt->owner = spawn_owner(rt_ref, cfg, info.address);
  rt->core->connect({rt->gcs, rt->raylet, rt->owner, rt->store, rt->store_actor,
                     rt->puller, data_address});
  rt->core->node_id(wire::to_string(info.id));
  caf::anon_send(rt->gcs, wire::register_atom::value, info, rt->raylet);
  caf::anon_send(rt->gcs, wire::subscribe_atom::value, rt->owner);
}

void stop(runtime& rt) {
  if (rt.data)
    rt.data->stop();
  rt.core->shutdown();
  // The raylet takes its executors and actor hosts along.
  if (rt.owns_raylet)
    caf::anon_send_exit(rt.raylet, caf::exit_reason::user_shutdown);
  if (rt.owns_gcs)
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

namespace core {

core_worker* current_core() noexcept {
  return active_core.load();
}

core_worker& require_core() {
  auto ptr = active_core.load();
  if (ptr == nullptr)
    throw error("caraway is not initialized: call caraway::init first");
  return *ptr;
}

} // namespace core

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

namespace {

// Checks the config and the registry, then starts the components.
void start(const config& cfg, const detail::node_options* node,
           detail::node_started* started) {
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
  for (auto& [name, amount] : cfg.resources)
    detail::check_resource(name, amount);
  if (std::isnan(cfg.num_cpus) || std::isinf(cfg.num_cpus))
    throw invalid_argument_error("num_cpus must be a finite number");
  detail::check_resource("GPU", cfg.num_gpus);
  retired_core.reset();
  auto rt = start_embedded(cfg, node, started);
  active_core = rt->core.get();
  active_runtime = std::move(rt);
}

} // namespace

session init(const config& cfg) {
  std::lock_guard<std::mutex> guard{runtime_mtx};
  start(cfg, nullptr, nullptr);
  CARAWAY_LOG(info, runtime)
    << (cfg.address.empty() ? "embedded cluster started"
                            : "connected to " + cfg.address);
  return session{true};
}

namespace detail {

node_started start_node(const config& cfg, const node_options& opts) {
  std::lock_guard<std::mutex> guard{runtime_mtx};
  auto failed = detail::load_libraries(opts.libraries);
  if (!failed.empty())
    throw error(failed.front());
  node_started result;
  start(cfg, &opts, &result);
  CARAWAY_LOG(info, runtime) << (opts.head ? "head" : "worker")
                             << " node started" << log::kv("port", result.port);
  return result;
}

void wait_node(const std::function<bool()>& interrupted) {
  std::shared_future<void> stopped;
  {
    std::lock_guard<std::mutex> guard{runtime_mtx};
    if (!active_runtime)
      throw error("caraway is not initialized");
    stopped = active_runtime->raylet_stopped_future;
  }
  while (stopped.wait_for(std::chrono::milliseconds(100))
         != std::future_status::ready)
    if (interrupted())
      return;
}

} // namespace detail

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

std::string node_id() {
  return core::require_core().node_id();
}

bool is_initialized() {
  return active_core.load() != nullptr;
}

store_stats object_store_stats() {
  std::lock_guard<std::mutex> guard{runtime_mtx};
  if (!active_runtime)
    throw error("caraway is not initialized: call caraway::init first");
  auto st = active_runtime->store->get_stats();
  store_stats result{st.used_bytes, st.capacity_bytes, st.objects,
                     st.pooled_bytes};
  if (auto& puller = active_runtime->puller) {
    result.pulled_objects = puller->pulled_objects();
    result.pulled_bytes = puller->pulled_bytes();
    result.pull_nanoseconds = puller->pull_nanoseconds();
  }
  return result;
}

namespace {

// Resources in total and free over the live nodes.
wire::node_info sum_live(const std::vector<wire::node_info>& nodes) {
  wire::node_info result;
  for (auto& node : nodes) {
    if (!node.alive)
      continue;
    result.total += node.total;
    result.available += node.available;
  }
  return result;
}

// The cluster's resources: the gcs asks every live raylet for its current
// use; embedded, the one raylet answers by itself.
wire::node_info cluster_status() {
  // Held throughout: shutdown must not destroy the system meanwhile.
  std::lock_guard<std::mutex> guard{runtime_mtx};
  if (!active_runtime)
    throw error("caraway is not initialized: call caraway::init first");
  auto& rt = *active_runtime;
  auto timeout = std::chrono::milliseconds(rt.core->cfg().request_timeout_ms);
  std::optional<wire::node_info> result;
  owner::with_scoped_actor(*rt.sys, [&](caf::scoped_actor& self) {
    if (rt.embedded)
      self->request(rt.raylet, timeout, wire::status_atom::value)
        .receive([&](wire::node_info& info) { result = std::move(info); },
                 [&](caf::error&) {});
    else
      self->request(rt.gcs, timeout, wire::nodes_atom::value)
        .receive(
          [&](std::vector<wire::node_info>& nodes) {
            result = sum_live(nodes);
          },
          [&](caf::error&) {});
  });
  if (!result)
    throw error(rt.embedded ? "the raylet did not report its status"
                            : "the gcs did not report the cluster's nodes");
  return std::move(*result);
}

} // namespace

std::map<std::string, double> cluster_resources() {
  return cluster_status().total;
}

std::map<std::string, double> available_resources() {
  return cluster_status().available;
}

} // namespace caraway
