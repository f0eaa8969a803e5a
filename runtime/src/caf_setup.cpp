// CAF configuration and the parts every process has: the actor system, the
// object store's memory, the core worker and the owner actor, the data path.

#include <unistd.h>

#include <limits>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/error.hpp"
#include "caraway/node/object_store.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/runtime/io_thread.hpp"
#include "caraway/wire/address.hpp"
#include "caraway/wire/bridge.hpp"
#include "message_limit.hpp"
#include "owner/service.hpp"
#include "process.hpp"

namespace caraway::runtime {

namespace {

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

} // namespace

void make_system(process& p, const config& cfg, bool networked,
                 const node_options& timing) {
  p.caf_cfg = std::make_unique<caf::actor_system_config>();
  // Measured: the sharing policy cuts message latency about 2.5x on small
  // machines compared to work stealing.
  p.caf_cfg->set("scheduler.policy", caf::atom("sharing"));
  if (networked) {
    p.caf_cfg->load<caf::io::middleman>();
    // Measured: the I/O thread deserializing messages itself saves handing
    // each to a scheduler thread first (15-40 us per message on a 2-core
    // VM). caraway's messages are small (bulk data has its own data path),
    // so the I/O thread keeps up.
    p.caf_cfg->set("middleman.workers", size_t{0});
    // CAF sends no heartbeats by default: a frozen peer would never be
    // noticed.
    p.caf_cfg->set(
      "middleman.heartbeat-interval",
      caf::timespan{std::chrono::milliseconds(timing.heartbeat_interval_ms)});
    p.caf_cfg->set(
      "middleman.connection-timeout",
      caf::timespan{std::chrono::milliseconds(timing.heartbeat_timeout_ms)});
    configure_tls(*p.caf_cfg, cfg);
    // A handshake is silence too, and takes no longer than reaching the
    // head may.
    set_tls_handshake_timeout(std::chrono::milliseconds(
      std::min<uint64_t>(timing.heartbeat_timeout_ms, cfg.connect_timeout_ms)));
  }
  if (cfg.max_message_bytes <= cfg.inline_threshold
      || cfg.max_message_bytes > std::numeric_limits<uint32_t>::max())
    throw invalid_argument_error("invalid option 'max-message-bytes': "
                                 + std::to_string(cfg.max_message_bytes)
                                 + " (it must be above inline-threshold, "
                                 + std::to_string(cfg.inline_threshold)
                                 + ", and below 4 GiB)");
  set_max_message_bytes(cfg.max_message_bytes);
  apply_caf_options(*p.caf_cfg, cfg.caf);
  wire::add_message_types(*p.caf_cfg);
  p.sys = std::make_unique<caf::actor_system>(*p.caf_cfg);
}

void make_owner_core(process& p, const config& cfg, uint32_t get_spin_us,
                     bool task_events, bool shared,
                     node::store_memory_ptr store) {
  auto capacity = cfg.object_store_memory > 0 ? cfg.object_store_memory
                                              : default_store_memory();
  if (store) {
    p.store = std::move(store);
  } else if (shared) {
    std::string why;
    p.segment = node::shm_segment::create(capacity, why);
    if (!p.segment)
      throw error("cannot make the node's object store: " + why);
    p.store = node::make_shared_store_memory(p.segment);
  } else {
    p.store = node::make_store_memory(capacity, capacity);
  }
  auto core_cfg = cfg;
  core_cfg.get_spin_us = get_spin_us;
  core_cfg.task_events = task_events;
  p.core = std::make_shared<owner::core_worker>(*p.sys, core_cfg);
  p.store_actor = p.sys->spawn(node::object_store, p.store);
}

// Results from other processes arrive on the middleman's I/O thread; the
// owner takes them there unless `io_thread_actors` is off.
void spawn_owner(process& p, const config& cfg, std::string own_address) {
  auto& sys = *p.sys;
  if (cfg.io_thread_actors && sys.has_middleman())
    p.owner = spawn_on_io_thread<
      owner::service_actor::stateful_base<owner::service_state>>(
      sys, owner::service, p.core.get(), std::move(own_address));
  else
    p.owner = sys.spawn(owner::service, p.core.get(), std::move(own_address));
}

namespace {

// The data path's TLS context: on when the control connections have TLS
// (their files were checked then), with the same files.
node::data::tls_context_ptr data_tls(const process& p, const config& cfg) {
  if (!p.sys->has_openssl_manager())
    return nullptr;
  std::string why;
  auto ctx = node::data::make_tls_context(cfg.tls_ca, cfg.tls_cert, cfg.tls_key,
                                          why);
  if (!ctx)
    throw invalid_argument_error("TLS on the object data path: " + why);
  return ctx;
}

} // namespace

void start_data_path(process& p, const config& cfg, const std::string& host,
                     uint16_t port, const std::string& peer) {
  node::data_server::options opts;
  opts.tls = data_tls(p, cfg);
  opts.peer = peer;
  opts.host = host.empty() ? node::local_address_towards(peer) : host;
  opts.port = port;
  try {
    p.data = std::make_unique<node::data_server>(p.store, opts);
  } catch (const std::exception& e) {
    throw error(e.what());
  }
  start_puller(p, cfg);
  p.data_address = p.data->address();
}

void start_puller(process& p, const config& cfg) {
  node::object_puller::options pull_opts;
  pull_opts.timeout = std::chrono::milliseconds(cfg.request_timeout_ms);
  pull_opts.tls = p.data ? p.data->tls() : data_tls(p, cfg);
  p.puller = std::make_shared<node::object_puller>(p.store, pull_opts);
}

std::string render(caf::actor_system& sys, const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return sys.render(err);
}

} // namespace caraway::runtime
