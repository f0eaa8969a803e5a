// The driver role: a process of the user's that joins a running cluster,
// announces its job and libraries and submits to the raylet the gcs names.
// It runs no raylet of its own.

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <set>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/error.hpp"
#include "caraway/log.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/runtime/libraries.hpp"
#include "gcs_client.hpp"
#include "process.hpp"
#include "tls.hpp"

namespace caraway::runtime {

void connect_head(process& p, const std::string& address, uint32_t timeout_ms,
                  uint32_t reconnect_ms, head_link role) {
  bool driver = role == head_link::driver;
  std::string host;
  uint16_t port = 0;
  std::string why;
  if (!wire::split_address(address, host, port, why))
    throw invalid_argument_error("invalid head address: " + why);
  require_tls_off_loopback(p.sys->has_openssl_manager(), host,
                           "connect to the head at " + address,
                           driver ? driver_tls_options : daemon_tls_options);
  // A worker process tries once: if the head is away, its link reaches it
  // in the background while the process serves its node.
  auto gcs = connect_gcs(*p.sys, host, port,
                         std::chrono::milliseconds(timeout_ms),
                         /*retry=*/role != head_link::worker_process);
  if (!gcs) {
    if (role != head_link::worker_process)
      throw error(render(*p.sys, gcs.error()));
    CARAWAY_LOG(warning, runtime)
      << "the head is away; starting without it and reaching it meanwhile"
      << log::kv("head", address)
      << log::kv("error", render(*p.sys, gcs.error()))
      << log::kv("timeout_ms", reconnect_ms);
    gcs = wire::gcs_actor{};
  }
  gcs_client_config cfg;
  cfg.host = host;
  cfg.port = port;
  cfg.reconnect_timeout = std::chrono::milliseconds(reconnect_ms);
  if (driver) {
    cfg.answer_when_lost = true;
    std::weak_ptr<owner::core_worker> weak = p.core;
    cfg.driver_rejoined = [weak](wire::raylet_actor raylet,
                                 wire::unique_id node) {
      if (auto core = weak.lock())
        core->switch_raylet(std::move(raylet), node);
    };
  }
  // The process' link to the head, which outlives the head's restarts.
  p.gcs = spawn_gcs_client(*p.sys, std::move(*gcs), std::move(cfg));
  p.owns_gcs = true;
}

namespace {

// The IPv4 addresses of this machine's interfaces, loopback included.
std::set<std::string> own_addresses() {
  std::set<std::string> result{"127.0.0.1"};
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0)
    return result;
  for (auto* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET)
      continue;
    char text[INET_ADDRSTRLEN];
    auto* in = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) != nullptr)
      result.insert(text);
  }
  freeifaddrs(list);
  return result;
}

// Whether `node` is what the user named with --caraway-node.
bool matches(const wire::node_info& node, const std::string& wanted) {
  if (node.address == wanted)
    return true;
  auto id = wire::to_string(node.id);
  return wanted.size() >= 8 && id.compare(0, wanted.size(), wanted) == 0;
}

// The node whose raylet the driver asks for workers: the one named with
// --caraway-node, else the one the head named if it runs on this machine,
// else the least used live node on this machine, else the head's choice.
// Null `raylet` keeps the head's choice.
void pick_submit_node(process& p, const config& cfg,
                      wire::unique_id& raylet_node) {
  auto& sys = *p.sys;
  std::vector<wire::node_info> nodes;
  std::string failure;
  owner::with_scoped_actor(sys, [&](caf::scoped_actor& self) {
    self
      ->request(p.gcs, std::chrono::milliseconds(cfg.request_timeout_ms),
                wire::nodes_atom::value)
      .receive([&](std::vector<wire::node_info>& xs) { nodes = std::move(xs); },
               [&](caf::error& err) { failure = render(sys, err); });
  });
  if (!failure.empty()) {
    if (!cfg.node.empty())
      throw error("cannot find node " + cfg.node + ": " + failure);
    return;
  }
  const wire::node_info* chosen = nullptr;
  if (!cfg.node.empty()) {
    for (auto& node : nodes)
      if (node.alive && matches(node, cfg.node))
        chosen = &node;
    if (chosen == nullptr)
      throw invalid_argument_error("no live node matches --caraway-node "
                                   + cfg.node);
  } else {
    auto local = own_addresses();
    auto on_this_machine = [&](const wire::node_info& node) {
      std::string host;
      uint16_t port = 0;
      std::string why;
      return node.alive && wire::split_address(node.address, host, port, why)
             && local.count(host) > 0;
    };
    double least = 2;
    for (auto& node : nodes) {
      if (!on_this_machine(node))
        continue;
      if (node.id == raylet_node)
        return; // the head's choice is on this machine
      auto used = wire::resource_set{}.utilization(node.total, node.available);
      if (used < least) {
        least = used;
        chosen = &node;
      }
    }
    if (chosen == nullptr)
      return;
  }
  if (chosen->id == raylet_node)
    return;
  std::string host;
  uint16_t port = 0;
  std::string why;
  wire::split_address(chosen->address, host, port, why);
  auto raylet = connect_raylet(sys, host, port,
                               std::chrono::milliseconds(cfg.connect_timeout_ms));
  if (!raylet) {
    if (!cfg.node.empty())
      throw error("cannot use node " + cfg.node + ": "
                  + render(sys, raylet.error()));
    CARAWAY_LOG(warning, runtime)
      << "cannot reach the node on this machine; asking the head's node"
      << log::kv("node", chosen->address)
      << log::kv("error", render(sys, raylet.error()));
    return;
  }
  p.raylet = std::move(*raylet);
  raylet_node = chosen->id;
}

} // namespace

void add_driver(process& p, const config& cfg) {
  auto& sys = *p.sys;
  std::string failure;
  wire::unique_id raylet_node;
  // Its metrics show on the endpoint of the node it submits to.
  p.core->ships_metrics(true);
  spawn_owner(p, cfg, std::string{});
  auto libraries = job_libraries(cfg);
  for (auto& path : libraries)
    CARAWAY_LOG(info, runtime) << "announcing library" << log::kv("path", path);
  owner::with_scoped_actor(sys, [&](caf::scoped_actor& self) {
    // The gcs answers once the nodes loaded the libraries: a request, not a
    // connection attempt, hence the request timeout.
    self
      ->request(p.gcs, std::chrono::milliseconds(cfg.request_timeout_ms),
                wire::job_atom::value, "driver pid " + std::to_string(getpid()),
                p.owner, std::move(libraries))
      .receive(
        [&](uint64_t job, wire::raylet_actor& raylet, wire::unique_id& node) {
          CARAWAY_LOG(info, runtime)
            << "joined the cluster" << log::kv("job", job)
            << log::kv("submits_to", wire::to_string(node));
          p.raylet = std::move(raylet);
          p.core->job(job);
          raylet_node = node;
        },
        [&](caf::error& err) { failure = render(sys, err); });
  });
  if (!p.raylet)
    throw error("cannot join the cluster at " + cfg.address + ": " + failure);
  pick_submit_node(p, cfg, raylet_node);
  CARAWAY_LOG(info, runtime) << "asking for workers at"
                             << log::kv("node", wire::to_string(raylet_node));
  p.owns_raylet = false;
  p.core->connect({p.gcs, p.raylet, p.owner, p.store, p.store_actor, p.puller,
                   p.data_address, raylet_node});
  caf::anon_send(p.gcs, wire::subscribe_atom::value, p.owner);
}

std::unique_ptr<process> start_cluster_driver(const config& given) {
  auto cfg = given;
  resolve_tls(cfg, tls_role::client);
  return start_process([&](process& p) {
    node_options defaults;
    make_system(p, cfg, /*networked=*/true, defaults);
    // A cluster's driver waits for results from other processes: its get
    // spins long enough to cover a remote round trip.
    make_owner_core(p, cfg, cfg.cluster_get_spin_us, cfg.task_events);
    connect_head(p, cfg.address, cfg.connect_timeout_ms,
                 cfg.head_reconnect_timeout_ms, head_link::driver);
    // Serves on the address that routes to the head.
    std::string head_host;
    uint16_t head_port = 0;
    std::string why;
    wire::split_address(cfg.address, head_host, head_port, why);
    start_data_path(p, cfg, cfg.host, cfg.data_port, head_host);
    add_driver(p, cfg);
  });
}

} // namespace caraway::runtime
