// caraway: the command-line client of a cluster. Connects to the gcs that the
// head node publishes, prints what it knows, or stops every node.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/wire/bridge.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/wire/interfaces.hpp"
#include "caraway/wire/records.hpp"

namespace po = boost::program_options;
namespace runtime = caraway::runtime;
namespace wire = caraway::wire;

namespace {

constexpr char default_address[] = "127.0.0.1:6380";

constexpr char commands_text[] = R"(commands:
  status        resource use of every node, then of the whole cluster
  list nodes    every node with its address, state and resources
  list actors   every actor with its state, class and name
  list jobs     every driver that joined the cluster
  list placement-groups
                every placement group with its state, strategy and bundles
                (with the node of each)
  stop          stop every node of the cluster

The head's address comes from --address, else the environment variable
CARAWAY_ADDRESS, else `address = host:port` in the config file (or the
`head-address` of a worker's config), else )";

enum exit_code : int { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

struct settings {
  std::string address;
  std::string host;
  uint16_t port = 0;
  std::chrono::milliseconds timeout{5000};
  std::vector<std::string> command;
};

po::options_description make_options() {
  po::options_description opts{"options"};
  opts.add_options()
    ("help,h", "print this text")
    ("address", po::value<std::string>(),
     "host:port of the head node")
    ("config", po::value<std::string>(),
     "INI file with `address = host:port`")
    ("timeout-ms", po::value<int64_t>()->default_value(5000),
     "how long to wait for the head's connection and for each reply");
  return opts;
}

void print_usage(std::ostream& out, const po::options_description& opts) {
  out << "usage: caraway [options] <command>\n\n"
      << opts << '\n'
      << commands_text << default_address << ".\n";
}

int usage_error(const std::string& what, const po::options_description& opts) {
  std::cerr << "caraway: " << what << "\n\n";
  print_usage(std::cerr, opts);
  return exit_usage;
}

bool known_command(const std::vector<std::string>& cmd) {
  if (cmd.size() == 1)
    return cmd[0] == "status" || cmd[0] == "stop";
  if (cmd.size() == 2 && cmd[0] == "list")
    return cmd[1] == "nodes" || cmd[1] == "actors" || cmd[1] == "jobs"
           || cmd[1] == "placement-groups";
  return false;
}

/// Fills `out` from the command line, the environment and the config file;
/// returns the exit code when the program should stop right away.
std::optional<int> parse(int argc, char** argv, settings& out) {
  auto opts = make_options();
  po::options_description hidden;
  hidden.add_options()
    ("command", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("command", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv)
                .options(all)
                .positional(positional)
                .run(),
              vm);
    if (vm.count("config")) {
      auto path = vm["config"].as<std::string>();
      std::ifstream in{path};
      if (!in)
        return usage_error("cannot read config file '" + path + "'", opts);
      // The file may be a daemon's config: keys other than ours are fine.
      po::options_description file_opts;
      file_opts.add_options()
        ("address", po::value<std::string>())
        ("head-address", po::value<std::string>())
        ("timeout-ms", po::value<int64_t>());
      po::variables_map file_vm;
      po::store(po::parse_config_file(in, file_opts, true), file_vm);
      // A worker's config names the head as `head-address`.
      if (file_vm.count("address"))
        out.address = file_vm["address"].as<std::string>();
      else if (file_vm.count("head-address"))
        out.address = file_vm["head-address"].as<std::string>();
      if (file_vm.count("timeout-ms") && vm["timeout-ms"].defaulted())
        out.timeout = std::chrono::milliseconds{
          file_vm["timeout-ms"].as<int64_t>()};
    }
    po::notify(vm);
  } catch (const po::error& err) {
    return usage_error(err.what(), opts);
  }
  if (vm.count("help")) {
    print_usage(std::cout, opts);
    return exit_ok;
  }
  if (!vm["timeout-ms"].defaulted())
    out.timeout = std::chrono::milliseconds{vm["timeout-ms"].as<int64_t>()};
  if (out.timeout.count() <= 0)
    return usage_error("--timeout-ms must be positive", opts);
  if (vm.count("address"))
    out.address = vm["address"].as<std::string>();
  else if (auto env = std::getenv("CARAWAY_ADDRESS"); env && *env)
    out.address = env;
  else if (out.address.empty())
    out.address = default_address;
  std::string why;
  if (!wire::split_address(out.address, out.host, out.port, why))
    return usage_error("invalid address: " + why, opts);
  if (vm.count("command"))
    out.command = vm["command"].as<std::vector<std::string>>();
  if (out.command.empty())
    return usage_error("no command given", opts);
  if (!known_command(out.command)) {
    std::string text;
    for (auto& word : out.command)
      text += (text.empty() ? "" : " ") + word;
    return usage_error("unknown command '" + text + "'", opts);
  }
  return std::nullopt;
}

std::string describe(caf::actor_system& sys, const caf::error& err,
                     std::chrono::milliseconds timeout) {
  if (err == caf::sec::request_timeout)
    return "no reply within " + std::to_string(timeout.count()) + " ms";
  auto& ctx = err.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return sys.render(err);
}

/// Renders a resource amount: whole numbers without a fraction.
std::string amount(double x) {
  char buf[32];
  if (x == std::floor(x) && std::fabs(x) < 1e15)
    std::snprintf(buf, sizeof(buf), "%.0f", x + 0.0);
  else
    std::snprintf(buf, sizeof(buf), "%g", x);
  return buf;
}

std::string address_of(const wire::node_info& node) {
  // Nodes embedded in a driver have no address of their own.
  return node.address.empty() ? "(embedded)" : node.address;
}

size_t address_width(const std::vector<wire::node_info>& nodes) {
  size_t result = 0;
  for (auto& node : nodes)
    result = std::max(result, address_of(node).size());
  return result;
}

// Resources placement group bundles add to their nodes ("CPU_group_...").
bool of_group(const std::string& name) {
  return name.find("_group_") != std::string::npos;
}

void print_status(const std::vector<wire::node_info>& nodes) {
  auto width = address_width(nodes);
  wire::resource_set total;
  wire::resource_set used;
  uint64_t pending = 0;
  size_t alive = 0;
  for (auto& node : nodes) {
    std::cout << wire::to_string(node.id).substr(0, 8) << "  " << std::left
              << std::setw(static_cast<int>(width)) << address_of(node)
              << "  " << (node.alive ? "alive" : "dead ");
    // A dead node's use is unknown, and its resources are gone from the
    // cluster: show what it had, count none of it.
    if (!node.alive) {
      for (auto& [name, amount_total] : node.total)
        if (!of_group(name))
          std::cout << "  " << name << " -/" << amount(amount_total);
      std::cout << "  pending -\n";
      continue;
    }
    for (auto& [name, amount_total] : node.total) {
      if (of_group(name))
        continue;
      auto i = node.available.find(name);
      auto in_use = amount_total - (i != node.available.end() ? i->second : 0);
      std::cout << "  " << name << ' ' << amount(in_use) << '/'
                << amount(amount_total);
      total[name] += amount_total;
      used[name] += in_use;
    }
    constexpr uint64_t mib = 1 << 20;
    std::cout << "  store " << (node.object_store_used + mib - 1) / mib << '/'
              << node.object_store_capacity / mib << " MiB";
    std::cout << "  pending " << node.pending_tasks << '\n';
    ++alive;
    pending += node.pending_tasks;
  }
  std::cout << "cluster: " << alive << " of " << nodes.size()
            << " nodes alive";
  for (auto& [name, amount_total] : total)
    std::cout << "  " << name << ' ' << amount(used[name]) << '/'
              << amount(amount_total);
  std::cout << "\npending tasks: " << pending << '\n';
}

void print_nodes(const std::vector<wire::node_info>& nodes) {
  auto width = address_width(nodes);
  for (auto& node : nodes) {
    std::cout << wire::to_string(node.id) << "  " << std::left
              << std::setw(static_cast<int>(width)) << address_of(node)
              << "  " << (node.alive ? "alive" : "dead ") << ' ';
    for (auto& [name, amount_total] : node.total)
      if (!of_group(name))
        std::cout << ' ' << name << ':' << amount(amount_total);
    std::cout << '\n';
  }
  if (nodes.empty())
    std::cout << "no nodes\n";
}

const char* state_name(wire::actor_state state) {
  switch (state) {
    case wire::actor_state::pending:
      return "pending   ";
    case wire::actor_state::alive:
      return "alive     ";
    case wire::actor_state::restarting:
      return "restarting";
    default:
      return "dead      ";
  }
}

void print_actors(const std::vector<wire::actor_info>& actors) {
  for (auto& actor : actors) {
    std::cout << wire::to_string(actor.id) << "  " << state_name(actor.state)
              << "  " << actor.class_name;
    if (!actor.name.empty())
      std::cout << "  " << actor.ns << '/' << actor.name;
    if (actor.num_restarts > 0)
      std::cout << "  restarts " << actor.num_restarts;
    if (actor.state == wire::actor_state::dead
        && !actor.death.message.empty())
      std::cout << "  (" << actor.death.message << ')';
    std::cout << '\n';
  }
  if (actors.empty())
    std::cout << "no actors\n";
}

const char* state_name(wire::placement_group_state state) {
  switch (state) {
    case wire::placement_group_state::pending:
      return "PENDING     ";
    case wire::placement_group_state::created:
      return "CREATED     ";
    case wire::placement_group_state::removed:
      return "REMOVED     ";
    default:
      return "RESCHEDULING";
  }
}

const char* strategy_name(wire::placement_strategy x) {
  switch (x) {
    case wire::placement_strategy::pack:
      return "PACK";
    case wire::placement_strategy::spread:
      return "SPREAD";
    case wire::placement_strategy::strict_pack:
      return "STRICT_PACK";
    default:
      return "STRICT_SPREAD";
  }
}

// id, state, strategy, then each bundle with the node it is on (the first
// 8 digits of its id) and the name; why a group waits, if known.
void print_groups(const std::vector<wire::placement_group_info>& groups) {
  for (auto& g : groups) {
    std::cout << wire::to_string(g.id) << "  " << state_name(g.state) << "  "
              << strategy_name(g.strategy);
    for (size_t i = 0; i < g.bundles.size(); ++i) {
      std::cout << "  {";
      bool first = true;
      for (auto& [name, x] : g.bundles[i]) {
        std::cout << (first ? "" : " ") << name << ':' << amount(x);
        first = false;
      }
      std::cout << '}';
      if (i < g.nodes.size() && !g.nodes[i].nil())
        std::cout << '@' << wire::to_string(g.nodes[i]).substr(0, 8);
    }
    if (!g.name.empty())
      std::cout << "  " << g.ns << '/' << g.name;
    if (g.state != wire::placement_group_state::created
        && g.state != wire::placement_group_state::removed && !g.why.empty())
      std::cout << "  (" << g.why << ')';
    std::cout << '\n';
  }
  if (groups.empty())
    std::cout << "no placement groups\n";
}

void print_jobs(const std::map<uint64_t, std::string>& jobs) {
  for (auto& [number, driver] : jobs)
    std::cout << "job " << number << "  " << driver << '\n';
  if (jobs.empty())
    std::cout << "no jobs\n";
}

/// Talks to the gcs through one blocking actor, each reply bounded by the
/// timeout so that a stuck head cannot hang the tool.
class gcs_client {
public:
  gcs_client(caf::actor_system& sys, const settings& cfg, wire::gcs_actor gcs)
    : sys_(sys), cfg_(cfg), gcs_(std::move(gcs)), self_(sys) {
    // nop
  }

  template <class Result, class... Ts>
  bool ask(Result& result, Ts... xs) {
    bool ok = false;
    self_->request(gcs_, cfg_.timeout, xs...)
      .receive([&](Result& x) {
                 result = std::move(x);
                 ok = true;
               },
               [&](caf::error& err) {
                 std::cerr << "caraway: no answer from the head at "
                           << cfg_.address << ": "
                           << describe(sys_, err, cfg_.timeout) << '\n';
               });
    return ok;
  }

private:
  caf::actor_system& sys_;
  const settings& cfg_;
  wire::gcs_actor gcs_;
  caf::scoped_actor self_;
};

int run(caf::actor_system& sys, const settings& cfg) {
  auto gcs = runtime::connect_gcs(sys, cfg.host, cfg.port, cfg.timeout);
  if (!gcs) {
    auto why = describe(sys, gcs.error(), cfg.timeout);
    std::string prefix = "cannot reach the head at " + cfg.address;
    if (why.compare(0, prefix.size(), prefix) != 0)
      why = prefix + ": " + why;
    std::cerr << "caraway: " << why << '\n';
    return exit_failure;
  }
  gcs_client client{sys, cfg, std::move(*gcs)};
  auto& cmd = cfg.command;
  if (cmd[0] == "status" || cmd[0] == "stop" || cmd[1] == "nodes") {
    std::vector<wire::node_info> nodes;
    if (!client.ask(nodes, wire::nodes_atom::value))
      return exit_failure;
    if (cmd[0] == "status") {
      print_status(nodes);
    } else if (cmd[0] == "list") {
      print_nodes(nodes);
    } else {
      size_t alive = 0;
      for (auto& node : nodes)
        alive += node.alive ? 1 : 0;
      bool accepted = false;
      if (!client.ask(accepted, wire::stop_atom::value))
        return exit_failure;
      if (!accepted) {
        std::cerr << "caraway: the head refused to stop the cluster\n";
        return exit_failure;
      }
      std::cout << "stopping " << alive << (alive == 1 ? " node" : " nodes")
                << std::endl;
    }
  } else if (cmd[1] == "placement-groups") {
    std::vector<wire::placement_group_info> groups;
    if (!client.ask(groups, wire::group_atom::value))
      return exit_failure;
    print_groups(groups);
  } else if (cmd[1] == "actors") {
    std::vector<wire::actor_info> actors;
    if (!client.ask(actors, wire::actors_atom::value))
      return exit_failure;
    print_actors(actors);
  } else {
    std::map<uint64_t, std::string> jobs;
    if (!client.ask(jobs, wire::jobs_atom::value))
      return exit_failure;
    print_jobs(jobs);
  }
  return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
  settings cfg;
  if (auto rc = parse(argc, argv, cfg))
    return *rc;
  caf::actor_system_config caf_cfg;
  // Same scheduler and heartbeat as the daemons, so that the head treats
  // this connection like any other peer. No connection timeout: CAF 0.17
  // would drop the connection at the first heartbeat if the head's handshake
  // had not arrived yet; the request timeouts bound every wait instead.
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf_cfg.set("scheduler.max-threads", 2);
  caf_cfg.set("middleman.heartbeat-interval",
              caf::timespan{std::chrono::milliseconds(500)});
  caf_cfg.load<caf::io::middleman>();
  wire::add_message_types(caf_cfg);
  caf::actor_system sys{caf_cfg};
  return run(sys, cfg);
}
