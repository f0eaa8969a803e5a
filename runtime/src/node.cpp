// The node role: a raylet with executors and actor hosts that run user code
// from this process' registry, on this process' object store. A daemon node
// listens for peers: the head with its gcs (head.cpp), a worker with its
// raylet.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "caraway/node/executor.hpp"
#include "caraway/node/raylet.hpp"
#include "caraway/runtime/io_thread.hpp"
#include "caraway/runtime/libraries.hpp"
#include "caraway/wire/address.hpp"
#include "metric_registry.hpp"
#include "process.hpp"
#include "runner.hpp"
#include "tls.hpp"

namespace caraway::runtime {

namespace {

wire::node_info describe_node(process& p, const config& cfg) {
  wire::node_info info;
  info.id = p.core->next_id();
  auto cpus = cfg.num_cpus >= 0
                ? cfg.num_cpus
                : std::max(1u, std::thread::hardware_concurrency());
  info.total = {cfg.resources.begin(), cfg.resources.end()};
  info.total["CPU"] = cpus;
  if (cfg.num_gpus > 0)
    info.total["GPU"] = cfg.num_gpus;
  info.object_store_capacity = p.store->get_stats().capacity_bytes;
  return info;
}

// The worker program: the one configured, else `caraway-worker` next to
// this executable.
std::string worker_binary(const node_options& opts) {
  if (!opts.worker_binary.empty())
    return opts.worker_binary;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path() / "caraway-worker").string();
}

// The session directory of a node's daemon (its logs, its worker
// processes' output, the jobs' libraries): its data dir, else a directory
// of its own under the temporary directory. Kept after the node stops, for
// a look at what went wrong.
std::string session_dir(const node_options& opts, const wire::unique_id& node) {
  namespace fs = std::filesystem;
  auto dir = !opts.data_dir.empty()
               ? fs::path{opts.data_dir}
               : fs::temp_directory_path()
                   / ("caraway-session-" + wire::to_string(node));
  std::error_code ec;
  fs::create_directories(dir / "logs", ec);
  if (ec)
    throw error("cannot create the session directory " + dir.string() + ": "
                + ec.message());
  return dir.string();
}

// The end of a component's log file in `dir`, as `caraway logs --component`
// shows it; if there is none, `why` names the ones there are.
bool read_component_log(const std::string& dir, const std::string& component,
                        uint32_t lines, std::string& text, std::string& why) {
  namespace fs = std::filesystem;
  // A component's name, not a path: nothing outside `dir` is read.
  bool plain = !component.empty() && component.size() <= 32
               && std::all_of(component.begin(), component.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || c == '_';
                  });
  auto path = fs::path{dir} / (component + ".log");
  std::error_code ec;
  if (plain && fs::is_regular_file(path, ec)) {
    text = worker_launcher::tail(path.string(), lines, 4 << 20);
    return true;
  }
  std::vector<std::string> names;
  for (auto& entry : fs::directory_iterator{dir, ec})
    if (entry.path().extension() == ".log")
      names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  why = "no log of '" + component + "' in " + dir + "; there are:";
  for (auto& name : names)
    why += " " + name;
  return false;
}

// Tasks go to worker processes the node starts per job (`launcher`).
void use_worker_processes(node::worker_factory& factory,
                          std::shared_ptr<worker_launcher> launcher) {
  factory.start_worker = [launcher](uint64_t job,
                                    const std::vector<std::string>& libs,
                                    uint64_t token, std::string& why) {
    return launcher->start(job, libs, token, why);
  };
  factory.reap_worker = [launcher](int32_t pid) { return launcher->reap(pid); };
  factory.kill_worker = [launcher](int32_t pid) { launcher->kill(pid); };
  factory.list_workers = [launcher] { return launcher->workers(); };
  factory.worker_output = [launcher](int32_t pid, uint32_t lines,
                                     std::string& out, std::string& err) {
    return launcher->output(pid, lines, out, err);
  };
  factory.keep_libraries = [launcher](uint64_t job,
                                      const std::vector<std::string>& paths,
                                      std::vector<std::string>& failed) {
    auto kept = launcher->keep_libraries(job, paths, failed);
    for (auto& path : kept)
      CARAWAY_LOG(info, runtime)
        << "kept library for the job's worker processes" << log::kv("job", job)
        << log::kv("path", path);
    for (auto& why : failed)
      CARAWAY_LOG(error, runtime)
        << why << "; tasks of the job that need it fail on this node";
    return kept;
  };
}

node::worker_factory make_factory(process& p) {
  auto run = std::make_shared<core::runner>(*p.core);
  node::worker_factory factory;
  auto gcs = p.gcs;
  auto sys = p.sys.get();
  factory.spawn_executor = [sys, run](wire::raylet_actor raylet) {
    return sys->spawn<caf::detached>(node::executor, std::move(raylet), run,
                                     node::worker_hooks{});
  };
  factory.spawn_actor_host = [sys, run, gcs](wire::raylet_actor raylet,
                                             const wire::actor_spec& spec,
                                             uint64_t lease) {
    return sys->spawn<caf::detached>(node::actor_host, spec, lease,
                                     std::move(raylet), gcs, run,
                                     std::string{});
  };
  factory.store = p.store_actor;
  auto store = p.store;
  factory.store_used = [store] { return store->get_stats().used_bytes; };
  factory.free_owned = [store](uint64_t worker) {
    return store->release_owned_by(worker);
  };
  std::weak_ptr<owner::core_worker> weak = p.core;
  factory.cancel = [weak](const wire::task_id& id, bool recursive) {
    if (auto core = weak.lock())
      core->cancel_here(id, recursive);
  };
  factory.load_libraries = [](const std::vector<std::string>& paths) {
    auto failed = load_libraries(paths);
    for (auto& why : failed)
      CARAWAY_LOG(error, runtime)
        << why << "; tasks that need it fail on this node";
    return failed;
  };
  return factory;
}

} // namespace

void add_node(process& p, const config& cfg, const node_options* daemon,
              node_started* started) {
  auto& sys = *p.sys;
  auto info = describe_node(p, cfg);
  auto factory = make_factory(p);
  std::string session;
  if (daemon != nullptr) {
    session = session_dir(*daemon, info.id);
    auto logs = session + "/logs";
    if (!log::write_files(logs, daemon->log_file_max_bytes))
      throw error("cannot write logs to " + logs);
    CARAWAY_LOG(info, runtime)
      << "logging to files per component" << log::kv("dir", logs);
    factory.component_log = [logs](const std::string& component, uint32_t lines,
                                   std::string& text, std::string& why) {
      return read_component_log(logs, component, lines, text, why);
    };
  }
  bool processes = daemon != nullptr && daemon->worker_mode == "processes";
  if (processes) {
    worker_launcher::options opts;
    opts.binary = worker_binary(*daemon);
    opts.node_id = wire::to_string(info.id);
    opts.log_level = cfg.log_level;
    opts.max_message_bytes = cfg.max_message_bytes;
    opts.tls_ca = cfg.tls_ca;
    opts.tls_cert = cfg.tls_cert;
    opts.tls_key = cfg.tls_key;
    opts.session_dir = session;
    opts.node_libraries = daemon->libraries;
    // Workers use the node's store, in shared memory.
    try {
      // Only the node's own workers: the store lends out every object.
      p.store_server = std::make_unique<node::store_server>(
        p.store, p.segment, opts.session_dir + "/store.sock", node::own_child);
    } catch (const std::exception& e) {
      throw error(e.what());
    }
    opts.store_socket = p.store_server->path();
    opts.data_address = p.data_address;
    CARAWAY_LOG(info, runtime) << "tasks run in worker processes"
                               << log::kv("session", opts.session_dir);
    p.workers = std::make_shared<worker_launcher>(std::move(opts));
    use_worker_processes(factory, p.workers);
    factory.worker_idle_timeout
      = std::chrono::milliseconds(daemon->worker_idle_timeout_ms);
    factory.worker_exit_grace
      = std::chrono::milliseconds(daemon->worker_exit_grace_ms);
  }
  // Tasks from other processes arrive on the I/O thread; so may the raylet.
  // Its handlers do not block, except that loading a job's libraries holds
  // up this node's network traffic until they are loaded.
  auto threshold = daemon != nullptr ? daemon->spread_threshold : 0.5;
  if (cfg.io_thread_actors && sys.has_middleman())
    p.raylet = spawn_on_io_thread<
      node::raylet_impl::stateful_base<node::raylet_state>>(
      sys, node::raylet, info, cfg.max_workers, std::move(factory), p.gcs,
      threshold);
  else
    p.raylet = sys.spawn(node::raylet, info, cfg.max_workers,
                         std::move(factory), p.gcs, threshold);
  p.owns_raylet = true;
  if (daemon != nullptr) {
    // The head listens with its gcs, a worker with its raylet: peers reach
    // each node at its own address. With address reuse, a daemon restarted
    // on the same port listens at once, not after TIME_WAIT.
    auto published = daemon->head
                       ? listen(sys, p.gcs, daemon->port, daemon->host)
                       : listen(sys, p.raylet, daemon->port, daemon->host);
    if (!published)
      throw error("cannot listen on " + daemon->host + ":"
                  + std::to_string(daemon->port) + ": "
                  + render(sys, published.error()));
    info.address = daemon->host + ":" + std::to_string(*published);
    if (processes) {
      // Worker processes reach their raylet on loopback only.
      auto local = listen(sys, p.raylet, 0, "127.0.0.1");
      if (!local)
        throw error("cannot listen for worker processes on 127.0.0.1: "
                    + render(sys, local.error()));
      auto head = daemon->head ? info.address : daemon->head_address;
      if (daemon->head && (daemon->host == "0.0.0.0" || daemon->host.empty()))
        head = "127.0.0.1:" + std::to_string(*published);
      p.workers->addresses("127.0.0.1:" + std::to_string(*local), head);
    }
    if (started != nullptr) {
      started->port = *published;
      started->node_id = wire::to_string(info.id);
    }
  }
  p.raylet_stopped = std::make_shared<std::promise<std::string>>();
  p.raylet_stopped_future = p.raylet_stopped->get_future().share();
  auto stopped = p.raylet_stopped;
  auto sys_ptr = &sys;
  auto workers = p.workers;
  caf::actor_cast<caf::abstract_actor*>(p.raylet)->attach_functor(
    [stopped, sys_ptr, workers](const caf::error& reason) {
      // The node's worker processes end with its raylet.
      if (workers)
        workers->stop_all();
      bool asked = !reason || reason == caf::exit_reason::user_shutdown;
      stopped->set_value(asked ? std::string{} : render(*sys_ptr, reason));
    });
  spawn_owner(p, cfg, info.address);
  p.core->connect({p.gcs, p.raylet, p.owner, p.store, p.store_actor, p.puller,
                   p.data_address, info.id});
  p.core->node_id(wire::to_string(info.id));
  caf::anon_send(p.gcs, wire::register_atom::value, info, p.raylet);
  caf::anon_send(p.gcs, wire::subscribe_atom::value, p.owner);
}

// The head's dashboard; on its default port, one in use (another head on
// this machine, say) leaves the head without one rather than down.
void start_dashboard(process& p, const node_options& opts,
                     node_started& started) {
  try {
    p.dashboard = std::make_unique<dashboard_server>(
      *p.sys, p.gcs,
      opts.dashboard_host.empty() ? opts.host : opts.dashboard_host,
      // As long as the caraway tool waits: longer than the gcs waits for
      // silent owners (2 s), so that they cost a partial answer, not a 503.
      static_cast<uint16_t>(opts.dashboard_port), 5000);
    started.dashboard_port = p.dashboard->port();
  } catch (const error& e) {
    if (opts.dashboard_port_set)
      throw;
    CARAWAY_LOG(warning, runtime)
      << e.what()
      << "; serving without a dashboard (--dashboard-port: 0 picks a free "
         "port, -1 none)";
  }
}

std::unique_ptr<process> start_daemon(const config& given,
                                      const node_options& opts,
                                      node_started& started) {
  auto cfg = given;
  resolve_tls(cfg, tls_role::daemon);
  require_tls_off_loopback(tls_enabled(cfg), opts.host,
                           "listen on " + opts.host, daemon_tls_options);
  return start_process([&](process& p) {
    make_system(p, cfg, /*networked=*/true, opts);
    make_owner_core(p, cfg, cfg.get_spin_us, cfg.task_events,
                    /*shared=*/opts.worker_mode == "processes");
    std::string peer;
    if (opts.head) {
      add_head(p, &opts);
    } else {
      connect_head(p, opts.head_address, opts.connect_timeout_ms,
                   opts.head_reconnect_timeout_ms, head_link::node);
      // Serves data on the address that routes to the head.
      uint16_t head_port = 0;
      std::string why;
      wire::split_address(opts.head_address, peer, head_port, why);
    }
    start_data_path(p, cfg, opts.host, opts.data_port, peer);
    add_node(p, cfg, &opts, &started);
    if (opts.metrics_port >= 0) {
      // The head's endpoint also shows the cluster's tables.
      // With the daemon's own: what its tasks recorded (threads mode), its
      // pulls, and its store's evictions.
      auto local = [puller = p.puller, store = p.store,
                    node = started.node_id] {
        auto samples = detail::metric_registry::instance().snapshot();
        if (puller)
          detail::metric_registry::add_pulls(*puller, samples);
        for (auto& x : samples)
          x.labels.emplace_back("pid", std::to_string(::getpid()));
        auto st = store->get_stats();
        using detail::metric_registry;
        samples.push_back(metric_registry::counter_sample(
          "caraway_object_store_evicted_objects_total",
          "Copies of other nodes' objects dropped for room.",
          st.evicted_objects, {{"node", node}}));
        samples.push_back(metric_registry::counter_sample(
          "caraway_object_store_evicted_bytes_total",
          "Bytes of copies of other nodes' objects dropped for room.",
          st.evicted_bytes, {{"node", node}}));
        return samples;
      };
      p.metrics = std::make_unique<metrics_server>(
        *p.sys, p.raylet, opts.head ? p.gcs : wire::gcs_actor{}, opts.host,
        static_cast<uint16_t>(opts.metrics_port), 2000, std::move(local));
      started.metrics_port = p.metrics->port();
    }
    if (opts.head && opts.dashboard_port >= 0)
      start_dashboard(p, opts, started);
  });
}

} // namespace caraway::runtime
