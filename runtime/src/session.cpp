// Sessions: starting and stopping the roles of this process, and the
// public calls that need more than the core worker (store stats, the
// cluster's resources).

#include <cmath>
#include <mutex>
#include <optional>

#include <caf/all.hpp>

#include "caraway/api.hpp"
#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/runtime/libraries.hpp"
#include "caraway/runtime/node.hpp"
#include "current_core.hpp"
#include "process.hpp"
#include "registry.hpp"

namespace caraway {

namespace runtime {

void abort_start(process& p) {
  // Their requests ask actors of the system that goes next.
  p.metrics.reset();
  p.dashboard.reset();
  if (p.data)
    p.data->stop();
  if (p.store_server)
    p.store_server->stop();
  std::vector<caf::actor> owned{caf::actor_cast<caf::actor>(p.store_actor),
                                caf::actor_cast<caf::actor>(p.owner)};
  if (p.owns_raylet)
    owned.emplace_back(caf::actor_cast<caf::actor>(p.raylet));
  if (p.owns_gcs)
    owned.emplace_back(caf::actor_cast<caf::actor>(p.gcs));
  owned.insert(owned.end(), p.others.begin(), p.others.end());
  p.others.clear();
  for (auto& hdl : owned)
    if (hdl)
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  p.raylet = nullptr;
  p.gcs = nullptr;
  p.store_actor = nullptr;
  p.owner = nullptr;
  if (p.core)
    p.core->shutdown();
  p.sys.reset();
}

} // namespace runtime

namespace {

using runtime::process;

std::mutex runtime_mtx;
std::unique_ptr<process> active_runtime;

// The core of the last session stays until the next init: a thread that was
// inside get() during shutdown wakes up with an error instead of touching
// freed memory.
std::shared_ptr<owner::core_worker> retired_core;

void stop(process& p) {
  // Their requests ask actors of the system that goes next.
  p.metrics.reset();
  p.dashboard.reset();
  if (p.data)
    p.data->stop();
  p.core->shutdown();
  // A head of its own stops with the driver: asked as `caraway stop` asks,
  // it ends quietly.
  if (p.own_head)
    owner::with_scoped_actor(*p.sys, [&](caf::scoped_actor& self) {
      self->request(p.gcs, std::chrono::seconds(5), wire::stop_atom::value)
        .receive([](bool) {}, [](caf::error&) {});
    });
  // Worker processes end first: nothing of theirs outlives the node.
  if (p.workers)
    p.workers->stop_all();
  if (p.store_server)
    p.store_server->stop();
  // The raylet takes its executors and actor hosts along.
  if (p.owns_raylet)
    caf::anon_send_exit(p.raylet, caf::exit_reason::user_shutdown);
  if (p.owns_gcs)
    caf::anon_send_exit(p.gcs, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(p.store_actor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(p.owner, caf::exit_reason::user_shutdown);
  for (auto& hdl : p.others)
    caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  p.others.clear();
  p.raylet = nullptr;
  p.gcs = nullptr;
  p.store_actor = nullptr;
  p.owner = nullptr;
  // Waits until every executor returned from user code.
  p.sys.reset();
  // The driver has left its own head: that head stops now (asked above, or
  // with a signal), and its worker processes with it.
  if (p.own_head)
    p.own_head->stop(std::chrono::seconds(5));
  p.own_head.reset();
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

namespace {

// Checks the config and the registry, then starts the roles `start_roles`
// composes.
template <class F>
void start(const config& cfg, F start_roles) {
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
  std::unique_ptr<process> p = start_roles();
  core::set_current_core(p->core.get());
  active_runtime = std::move(p);
}

} // namespace

session init(const config& cfg) {
  std::lock_guard<std::mutex> guard{runtime_mtx};
  start(cfg, [&] {
    if (!cfg.address.empty())
      return runtime::start_cluster_driver(cfg);
    if (!cfg.worker_processes)
      return runtime::start_embedded(cfg);
    // A head of its own, driven like any cluster, with the driver's TLS
    // files.
    auto driven = cfg;
    runtime::resolve_tls(driven, runtime::tls_role::client);
    auto head = std::make_unique<runtime::local_head>(driven);
    driven.address = head->address();
    auto p = runtime::start_cluster_driver(driven);
    p->own_head = std::move(head);
    return p;
  });
  CARAWAY_LOG(info, runtime)
    << (!cfg.address.empty()   ? "connected to " + cfg.address
        : cfg.worker_processes ? "embedded cluster started, with worker "
                                 "processes"
                               : "embedded cluster started");
  return session{true};
}

namespace runtime {

node_started start_node(const config& cfg, const node_options& opts) {
  std::lock_guard<std::mutex> guard{runtime_mtx};
  // With worker processes, user code stays out of the daemon: its workers
  // load the libraries.
  auto failed = opts.worker_mode == "processes"
                  ? missing_libraries(opts.libraries)
                  : load_libraries(opts.libraries);
  if (!failed.empty())
    throw error(failed.front());
  node_started result;
  start(cfg, [&] { return start_daemon(cfg, opts, result); });
  CARAWAY_LOG(info, runtime) << (opts.head ? "head" : "worker")
                             << " node started" << log::kv("port", result.port);
  return result;
}

void start_worker(const config& cfg, const worker_options& opts) {
  std::lock_guard<std::mutex> guard{runtime_mtx};
  // Its code first: registrations run as the libraries load.
  auto failed = load_libraries(opts.libraries);
  if (!failed.empty())
    throw error(failed.front());
  start(cfg, [&] { return start_worker_process(cfg, opts); });
  CARAWAY_LOG(debug, runtime)
    << "worker process started" << log::kv("job", opts.job);
}

std::string wait_node(const std::function<bool()>& interrupted) {
  std::shared_future<std::string> stopped;
  {
    std::lock_guard<std::mutex> guard{runtime_mtx};
    if (!active_runtime)
      throw error("caraway is not initialized");
    stopped = active_runtime->raylet_stopped_future;
  }
  while (stopped.wait_for(std::chrono::milliseconds(100))
         != std::future_status::ready)
    if (interrupted())
      return {};
  return stopped.get();
}

} // namespace runtime

void shutdown() {
  std::unique_ptr<process> rt;
  {
    std::lock_guard<std::mutex> guard{runtime_mtx};
    rt = std::move(active_runtime);
  }
  if (!rt)
    return;
  // From here on, API calls (also from tasks still running) fail cleanly
  // instead of reaching into a system being torn down.
  core::set_current_core(nullptr);
  stop(*rt);
  std::lock_guard<std::mutex> guard{runtime_mtx};
  retired_core = std::move(rt->core);
  rt.reset();
}

std::string node_id() {
  return core::require_core().node_id();
}

bool is_initialized() {
  return core::current_core() != nullptr;
}

std::string dashboard_url() {
  std::lock_guard<std::mutex> guard{runtime_mtx};
  if (!active_runtime || !active_runtime->dashboard)
    return {};
  return "http://127.0.0.1:" + std::to_string(active_runtime->dashboard->port())
         + "/";
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

// The cluster's nodes as the raylets last reported them to the gcs (every
// 50 ms while busy), with the raylet of this process' node (or the one a
// driver submits to) asked directly; embedded,
// the one raylet answers by itself.
std::vector<wire::node_info> node_rows() {
  // Held throughout: shutdown must not destroy the system meanwhile.
  std::lock_guard<std::mutex> guard{runtime_mtx};
  if (!active_runtime)
    throw error("caraway is not initialized: call caraway::init first");
  auto& rt = *active_runtime;
  auto timeout = std::chrono::milliseconds(rt.core->cfg().request_timeout_ms);
  std::optional<std::vector<wire::node_info>> result;
  owner::with_scoped_actor(*rt.sys, [&](caf::scoped_actor& self) {
    if (rt.embedded)
      self->request(rt.raylet, timeout, wire::status_atom::value)
        .receive(
          [&](wire::node_info& info) {
            result = std::vector<wire::node_info>{std::move(info)};
          },
          [&](caf::error&) {});
    else
      self->request(rt.gcs, timeout, wire::nodes_atom::value)
        .receive(
          [&](std::vector<wire::node_info>& nodes) {
            if (rt.raylet)
              self->request(rt.raylet, timeout, wire::status_atom::value)
                .receive(
                  [&](wire::node_info& own) {
                    for (auto& node : nodes)
                      if (node.id == own.id)
                        node.available = own.available;
                  },
                  [&](caf::error&) {});
            result = std::move(nodes);
          },
          [&](caf::error&) {});
  });
  if (!result)
    throw error(rt.embedded ? "the raylet did not report its status"
                            : "the gcs did not report the cluster's nodes");
  return std::move(*result);
}

wire::node_info cluster_status() {
  return sum_live(node_rows());
}

} // namespace

std::map<std::string, double> cluster_resources() {
  return cluster_status().total;
}

std::map<std::string, double> available_resources() {
  return cluster_status().available;
}

std::vector<node_view> nodes() {
  std::vector<node_view> result;
  for (auto& row : node_rows()) {
    node_view x;
    x.id = wire::to_string(row.id);
    x.address = row.address;
    x.alive = row.alive;
    x.total.insert(row.total.begin(), row.total.end());
    x.available.insert(row.available.begin(), row.available.end());
    result.emplace_back(std::move(x));
  }
  return result;
}

} // namespace caraway
