// caraway: the command-line client of a cluster. Connects to the gcs that the
// head node publishes, prints what it knows, or stops every node.

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/program_options.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/config.hpp"
#include "caraway/error.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/runtime/tls_files.hpp"
#include "caraway/wire/bridge.hpp"
#include "caraway/wire/errc.hpp"
#include "caraway/wire/interfaces.hpp"
#include "caraway/wire/records.hpp"
#include "views.hpp"

namespace po = boost::program_options;
namespace runtime = caraway::runtime;
namespace wire = caraway::wire;

namespace {

constexpr char default_address[] = "127.0.0.1:6380";

constexpr char commands_text[] = R"(commands:
  status        resource use of every node, then of the whole cluster
  list nodes|actors|jobs|placement-groups|tasks|objects|workers
                one row each, with headers
  summary tasks|actors|objects
                the latest tasks counted by function and state, the
                actors by class and state, or the objects by what made
                them and state
  memory        object store use per node, objects by size with their
                owners and holders, bytes per kind of holder
  timeline [-o FILE]
                the tasks that ran, as a trace for Perfetto or
                chrome://tracing
  get node|actor|placement-group|task|object ID
                every field of one (ID: its first 8 or more digits)
  kill ACTOR_ID | kill --name NAME [--namespace NS]
                end an actor (it does not restart)
  logs [--node ID] [--worker PID | --component NAME] [--tail N]
                the worker processes of nodes, what one printed, or a
                node daemon's log of one component
  stop          stop every node of the cluster
  tls init DIR | tls issue NAME --dir DIR
                a cluster CA and certificates for TLS (no cluster needed)
  help COMMAND  what a command does and takes

The head's address comes from --address, else the environment variable
CARAWAY_ADDRESS, else the config file (`address`, a worker's
`head-address`, or a head's own `port`), else )";

// `caraway help COMMAND`.
// clang-format off
const std::map<std::string, std::string> command_help{
  {"status",
   "caraway status [--format table|json]\n"
   "  Each node (first 8 digits of its id, address, alive or dead) with its\n"
   "  resources in use/total, object store use and pending tasks, then the\n"
   "  cluster's totals over its live nodes.\n"},
  {"list",
   "caraway list nodes|actors|jobs|placement-groups|tasks|objects|workers\n"
   "             [--format table|json] [--filter KEY=VALUE]... [--limit N]\n"
   "  One row per node, actor, job (driver), placement group, task (the\n"
   "  latest the head keeps, --task-table-size of them), object (as its\n"
   "  owner describes it, largest first) or worker process of the live\n"
   "  nodes (as caraway logs lists them). --filter\n"
   "  keeps rows whose field KEY (a JSON key or a column header) equals\n"
   "  VALUE, ignoring case, e.g. --filter state=dead --filter name=fib;\n"
   "  --limit shows the first N (default 100) and says how many there were.\n"},
  {"summary",
   "caraway summary tasks|actors|objects [--format table|json]\n"
   "  The tasks the head keeps, counted by function and state; the\n"
   "  actors, counted by class and state; or the objects (the 10000\n"
   "  largest), counted by what made them (a function, or put) and state,\n"
   "  with their bytes.\n"},
  {"memory",
   "caraway memory [--format table|json] [--limit N]\n"
   "  The object store use of each live node; the N largest objects\n"
   "  (default 100) with their owner (job and pid), where the value is\n"
   "  (in a node's store or in the owner's process) and who holds them:\n"
   "  refs in the owner, tasks that take them, objects that contain them,\n"
   "  other processes; then objects and bytes per kind of holder and per\n"
   "  owner. Owners that do not answer within 2 s are left out, and\n"
   "  counted.\n"},
  {"timeline",
   "caraway timeline [-o FILE]\n"
   "  The tasks the head keeps that ran, as a trace in Chrome's trace event\n"
   "  format, to FILE (or stdout): a row per worker process, grouped by\n"
   "  node, and a span per task from when it started running until it\n"
   "  stopped, with its id, state and error. Load it in Perfetto\n"
   "  (ui.perfetto.dev) or chrome://tracing.\n"},
  {"get",
   "caraway get node|actor|placement-group|task|object ID\n"
   "            [--format table|json]\n"
   "  Every field of one, found by its id or the id's first 8 or more\n"
   "  digits.\n"},
  {"kill",
   "caraway kill ACTOR_ID\n"
   "caraway kill --name NAME [--namespace NS]\n"
   "  Ends the actor without a restart; calls to it fail with\n"
   "  actor_died_error. Waits until the head reports it dead.\n"},
  {"logs",
   "caraway logs [--node ID] [--format table|json] [--filter KEY=VALUE]...\n"
   "caraway logs [--node ID] --worker PID [--tail N] [--format table|json]\n"
   "caraway logs [--node ID] --component NAME [--tail N] [--format table|json]\n"
   "  Without --worker or --component: the worker processes of the node (by\n"
   "  its id or the id's first 8 or more digits), or of every live node,\n"
   "  running or ended, with the size and path of their output files. With\n"
   "  --worker: the last N lines (default 1000, 0 for all) of what that\n"
   "  worker wrote to stdout, then to stderr. A node that runs tasks on\n"
   "  threads has no worker processes: what its tasks print is in its\n"
   "  daemon's output.\n"
   "  With --component: the last N lines of the node daemon's log file of\n"
   "  that component (gcs, raylet, owner, runtime, ...; the error names the\n"
   "  ones the node has); --node may be left out on a one-node cluster.\n"},
  {"stop",
   "caraway stop\n"
   "  Stops every node of the cluster; prints how many were alive.\n"},
  {"tls",
   "caraway tls init DIR [--days N] [--force]\n"
   "caraway tls issue NAME --dir DIR [--days N] [--force]\n"
   "  init makes a cluster CA, DIR/ca.pem and DIR/ca.key, and certificates\n"
   "  it signs for nodes, DIR/node.pem and .key, and for clients,\n"
   "  DIR/client.pem and .key; it creates DIR (mode 0700) if missing.\n"
   "  issue makes one more, DIR/NAME.pem and .key, signed by DIR's CA;\n"
   "  NAME is letters, digits, '.', '_' and '-'. Each certificate serves\n"
   "  as TLS server and client, for NAME, localhost and 127.0.0.1, valid\n"
   "  for N days (default 3650). Keys are unencrypted, mode 0600: keep\n"
   "  ca.key to yourself. Existing files are kept unless --force.\n"},
  {"help", "caraway help COMMAND\n  What a command does and takes.\n"},
};
// clang-format on

enum exit_code : int { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

struct settings {
  std::string address;
  std::string host;
  uint16_t port = 0;
  std::chrono::milliseconds timeout{5000};
  std::vector<std::string> command;
  bool json = false;
  size_t limit = 100;
  std::vector<std::string> filters;
  std::string name;
  std::string ns;
  std::string node;
  int32_t worker = 0;
  std::string component;
  uint32_t tail = 1000;
  std::string output;
  std::string dir;
  int64_t days = 3650;
  bool force = false;
  /// TLS files, as a driver's (tls_ca, tls_cert, tls_key).
  caraway::config tls;
};

po::options_description make_options() {
  po::options_description opts{"options"};
  // clang-format off
  opts.add_options()
    ("help,h", "print this text")
    ("version", "print the version")
    ("address", po::value<std::string>(),
     "host:port of the head node")
    ("config", po::value<std::string>(),
     "INI file with `address = host:port` (or a node's config)")
    ("caraway-tls-ca", po::value<std::string>(),
     "mutual TLS: the cluster CA's certificate (or CARAWAY_TLS_CA)")
    ("caraway-tls-cert", po::value<std::string>(),
     "mutual TLS: this client's certificate (or CARAWAY_TLS_CERT)")
    ("caraway-tls-key", po::value<std::string>(),
     "mutual TLS: its key (or CARAWAY_TLS_KEY)")
    ("caraway-tls-dir", po::value<std::string>(),
     "mutual TLS: a directory as tls init makes, instead of the three "
     "files (or CARAWAY_TLS_DIR; default: ~/.caraway/tls)")
    ("caraway-insecure-loopback",
     "no TLS: for a cluster on loopback whose nodes run with "
     "--insecure-loopback (or CARAWAY_INSECURE_LOOPBACK=true)")
    ("timeout-ms", po::value<int64_t>()->default_value(5000),
     "how long to wait for the head's connection and for each reply")
    ("format", po::value<std::string>()->default_value("table"),
     "table or json")
    ("filter", po::value<std::vector<std::string>>(),
     "list: keep rows with KEY=VALUE (repeatable)")
    ("limit", po::value<int64_t>()->default_value(100),
     "list: show at most this many rows")
    ("name", po::value<std::string>(), "kill: the actor's name")
    ("namespace", po::value<std::string>()->default_value(""),
     "kill: the namespace of --name")
    ("node", po::value<std::string>(), "logs: the node (id or its start)")
    ("worker", po::value<int64_t>(), "logs: the worker process' pid")
    ("component", po::value<std::string>(),
     "logs: a component of the node's daemon (e.g. raylet)")
    ("tail", po::value<int64_t>()->default_value(1000),
     "logs: the last N lines of its output (0: all)")
    ("output,o", po::value<std::string>(),
     "timeline: write the trace to this file (default: stdout)")
    ("dir", po::value<std::string>(), "tls issue: the directory of the CA")
    ("days", po::value<int64_t>()->default_value(3650),
     "tls: how many days certificates are valid")
    ("force", "tls: replace existing files");
  // clang-format on
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

bool known_command(const std::vector<std::string>& cmd, bool by_name) {
  auto is = [&](size_t n, const char* word) {
    return cmd.size() == n && cmd[0] == word;
  };
  if (is(1, "status") || is(1, "stop") || is(1, "logs") || is(1, "timeline")
      || is(1, "memory"))
    return true;
  if (is(2, "list"))
    return cmd[1] == "nodes" || cmd[1] == "actors" || cmd[1] == "jobs"
           || cmd[1] == "placement-groups" || cmd[1] == "tasks"
           || cmd[1] == "objects" || cmd[1] == "workers";
  if (is(2, "summary"))
    return cmd[1] == "tasks" || cmd[1] == "actors" || cmd[1] == "objects";
  if (is(3, "get"))
    return cmd[1] == "node" || cmd[1] == "actor"
           || cmd[1] == "placement-group" || cmd[1] == "task"
           || cmd[1] == "object";
  if (is(3, "tls"))
    return cmd[1] == "init" || cmd[1] == "issue";
  return by_name ? is(1, "kill") : is(2, "kill");
}

// The options of `caraway tls`, which needs no cluster and so no address.
std::optional<int> parse_tls(const po::variables_map& vm, settings& out,
                             const po::options_description& opts) {
  if (!known_command(out.command, false))
    return usage_error("tls takes init DIR or issue NAME --dir DIR", opts);
  if (vm.count("dir"))
    out.dir = vm["dir"].as<std::string>();
  if (out.command[1] == "init" && !out.dir.empty())
    return usage_error("tls init takes its directory as argument, not --dir",
                       opts);
  if (out.command[1] == "issue" && out.dir.empty())
    return usage_error("tls issue needs --dir DIR, where the CA is", opts);
  out.days = vm["days"].as<int64_t>();
  if (out.days <= 0 || out.days > 100000)
    return usage_error("--days is 1 to 100000", opts);
  out.force = vm.count("force") > 0;
  return std::nullopt;
}

// Where a node's config says the head is: a worker names it, a head is it
// (on its own port, 6380 unless set).
std::optional<std::string> address_in(std::istream& in) {
  po::options_description file_opts;
  file_opts.add_options()
    ("address", po::value<std::string>())
    ("head-address", po::value<std::string>())
    ("role", po::value<std::string>())
    ("host", po::value<std::string>())
    ("port", po::value<int64_t>());
  po::variables_map vm;
  po::store(po::parse_config_file(in, file_opts, true), vm);
  if (vm.count("address"))
    return vm["address"].as<std::string>();
  if (vm.count("head-address"))
    return vm["head-address"].as<std::string>();
  if (vm.count("role") && vm["role"].as<std::string>() == "head") {
    auto host = vm.count("host") ? vm["host"].as<std::string>() : "127.0.0.1";
    if (host == "0.0.0.0")
      host = "127.0.0.1";
    auto port = vm.count("port") ? vm["port"].as<int64_t>() : 6380;
    return host + ":" + std::to_string(port);
  }
  return std::nullopt;
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
      if (auto address = address_in(in))
        out.address = *address;
      in.clear();
      in.seekg(0);
      po::options_description file_opts;
      file_opts.add_options()("timeout-ms", po::value<int64_t>());
      po::variables_map file_vm;
      po::store(po::parse_config_file(in, file_opts, true), file_vm);
      if (file_vm.count("timeout-ms") && vm["timeout-ms"].defaulted())
        out.timeout = std::chrono::milliseconds{
          file_vm["timeout-ms"].as<int64_t>()};
    }
    po::notify(vm);
  } catch (const po::error& err) {
    auto input = caraway::detail::arguments_text(argc, argv);
    if (vm.count("config")) {
      std::ifstream file{vm["config"].as<std::string>()};
      input.append(std::istreambuf_iterator<char>{file}, {});
    }
    return usage_error(caraway::detail::option_error_text(err, input), opts);
  }
  if (vm.count("version")) {
    std::cout << "caraway " << CARAWAY_VERSION << '\n';
    return exit_ok;
  }
  if (vm.count("command"))
    out.command = vm["command"].as<std::vector<std::string>>();
  if (vm.count("help") || (!out.command.empty() && out.command[0] == "help")) {
    if (out.command.size() == 2 && out.command[0] == "help") {
      auto i = command_help.find(out.command[1]);
      if (i == command_help.end())
        return usage_error("no command '" + out.command[1] + "'", opts);
      std::cout << i->second;
      return exit_ok;
    }
    print_usage(std::cout, opts);
    return exit_ok;
  }
  if (!vm["timeout-ms"].defaulted())
    out.timeout = std::chrono::milliseconds{vm["timeout-ms"].as<int64_t>()};
  if (out.timeout.count() <= 0)
    return usage_error("--timeout-ms must be positive", opts);
  auto format = vm["format"].as<std::string>();
  if (format != "table" && format != "json")
    return usage_error("--format is table or json, not '" + format + "'",
                       opts);
  out.json = format == "json";
  auto limit = vm["limit"].as<int64_t>();
  if (limit <= 0)
    return usage_error("--limit must be positive", opts);
  out.limit = static_cast<size_t>(limit);
  if (vm.count("filter"))
    out.filters = vm["filter"].as<std::vector<std::string>>();
  if (vm.count("name"))
    out.name = vm["name"].as<std::string>();
  out.ns = vm["namespace"].as<std::string>();
  if (vm.count("node"))
    out.node = vm["node"].as<std::string>();
  if (vm.count("worker")) {
    auto pid = vm["worker"].as<int64_t>();
    if (pid <= 0 || pid > INT32_MAX)
      return usage_error("--worker is a process id", opts);
    out.worker = static_cast<int32_t>(pid);
  }
  if (vm.count("component"))
    out.component = vm["component"].as<std::string>();
  if (out.worker != 0 && !out.component.empty())
    return usage_error("logs takes --worker or --component, not both", opts);
  auto tail = vm["tail"].as<int64_t>();
  if (tail < 0 || tail > UINT32_MAX)
    return usage_error("--tail must be 0 (all) or a number of lines", opts);
  out.tail = static_cast<uint32_t>(tail);
  if (vm.count("output"))
    out.output = vm["output"].as<std::string>();
  if (!out.command.empty() && out.command[0] == "tls")
    return parse_tls(vm, out, opts);
  if (vm.count("address"))
    out.address = vm["address"].as<std::string>();
  else if (auto env = std::getenv("CARAWAY_ADDRESS"); env && *env)
    out.address = env;
  else if (out.address.empty())
    out.address = default_address;
  std::string why;
  if (!wire::split_address(out.address, out.host, out.port, why))
    return usage_error("invalid address: " + why, opts);
  for (auto [name, var, field] :
       {std::tuple{"caraway-tls-ca", "CARAWAY_TLS_CA", &out.tls.tls_ca},
        std::tuple{"caraway-tls-cert", "CARAWAY_TLS_CERT", &out.tls.tls_cert},
        std::tuple{"caraway-tls-key", "CARAWAY_TLS_KEY", &out.tls.tls_key},
        std::tuple{"caraway-tls-dir", "CARAWAY_TLS_DIR", &out.tls.tls_dir}}) {
    if (vm.count(name))
      *field = vm[name].as<std::string>();
    else if (auto env = std::getenv(var); env && *env)
      *field = env;
  }
  out.tls.insecure_loopback = vm.count("caraway-insecure-loopback") > 0;
  if (auto env = std::getenv("CARAWAY_INSECURE_LOOPBACK");
      !out.tls.insecure_loopback && env != nullptr && *env != '\0') {
    std::string value = env;
    if (value == "true" || value == "1")
      out.tls.insecure_loopback = true;
    else if (value != "false" && value != "0")
      return usage_error("CARAWAY_INSECURE_LOOPBACK is true or false, not '"
                           + value + "'",
                         opts);
  }
  if (out.command.empty())
    return usage_error("no command given", opts);
  if (!known_command(out.command, !out.name.empty())) {
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
    return ask_all(std::tie(result), xs...);
  }

  /// A request whose reply has several values, into `results`.
  template <class... Results, class... Ts>
  bool ask_all(std::tuple<Results&...> results, Ts... xs) {
    bool ok = false;
    self_->request(gcs_, cfg_.timeout, xs...)
      .receive(
        [&](Results&... xs) {
          results = std::forward_as_tuple(std::move(xs)...);
          ok = true;
        },
        [&](caf::error& err) {
          // The cluster's own answer (e.g. no such node) says it all.
          if (wire::code_of(err) != wire::errc::none)
            std::cerr << "caraway: " << describe(sys_, err, cfg_.timeout)
                      << '\n';
          else
            std::cerr << "caraway: no answer from the head at " << cfg_.address
                      << ": " << describe(sys_, err, cfg_.timeout) << '\n';
        });
    return ok;
  }

private:
  caf::actor_system& sys_;
  const settings& cfg_;
  wire::gcs_actor gcs_;
  caf::scoped_actor self_;
};

// Prints a listing as the options ask: filtered, cut to the limit (saying
// so on stderr), as a table or JSON.
int print_view(caraway::views::view v, const settings& cfg) {
  std::string why;
  if (!caraway::views::apply_filters(v, cfg.filters, why)) {
    std::cerr << "caraway: " << why << '\n';
    return exit_usage;
  }
  auto n = caraway::views::apply_limit(v, cfg.limit);
  std::cout << (cfg.json ? caraway::views::render_json(v)
                         : caraway::views::render_table(v));
  if (n > cfg.limit)
    std::cerr << "caraway: showing " << cfg.limit << " of " << n
              << " (--limit)\n";
  return exit_ok;
}

int print_one(const caraway::views::view& v, const std::string& id,
              const settings& cfg) {
  std::string why;
  auto row = caraway::views::find_row(v, id, why);
  if (row == nullptr) {
    std::cerr << "caraway: " << why << '\n';
    return exit_failure;
  }
  std::cout << (cfg.json ? row->dump(2) + '\n'
                         : caraway::views::render_fields(*row));
  return exit_ok;
}

// Ends an actor without a restart and waits until the head has it dead.
int kill_actor(gcs_client& client, const settings& cfg) {
  wire::actor_info info;
  if (!cfg.name.empty()) {
    if (!client.ask(info, wire::lookup_atom::value, cfg.name, cfg.ns))
      return exit_failure;
    if (info.id.nil()) {
      std::cerr << "caraway: no actor named '" << cfg.name
                << "' in namespace '" << cfg.ns << "'\n";
      return exit_failure;
    }
  } else {
    auto& text = cfg.command[1];
    if (!wire::from_string(text, info.id)) {
      std::cerr << "caraway: an actor id is 32 hex digits, not '" << text
                << "'\n";
      return exit_usage;
    }
  }
  auto id = info.id;
  bool killed = false;
  if (!client.ask(killed, wire::kill_atom::value, id, true))
    return exit_failure;
  if (!killed) {
    std::cerr << "caraway: no live actor " << wire::to_string(id) << '\n';
    return exit_failure;
  }
  auto deadline = std::chrono::steady_clock::now() + cfg.timeout;
  for (;;) {
    if (!client.ask(info, wire::lookup_atom::value, id))
      return exit_failure;
    if (info.state == wire::actor_state::dead) {
      std::cout << "killed " << wire::to_string(id) << '\n';
      return exit_ok;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "caraway: actor " << wire::to_string(id)
                << " is not dead after " << cfg.timeout.count() << " ms\n";
      return exit_failure;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// `caraway logs --component NAME`: the end of that log file of the node's
// daemon (the one node given or alive).
int show_component_log(gcs_client& client, const settings& cfg,
                       const std::vector<wire::unique_id>& ids) {
  if (ids.size() != 1) {
    std::cerr << "caraway: " << ids.size()
              << " live nodes: name one with --node\n";
    return exit_usage;
  }
  std::string text;
  if (!client.ask(text, wire::log_atom::value, ids.front(), cfg.component,
                  cfg.tail))
    return exit_failure;
  if (cfg.json) {
    nlohmann::ordered_json x{{"node", wire::to_string(ids.front())},
                             {"component", cfg.component},
                             {"text", text}};
    std::cout << x.dump(2) << '\n';
    return exit_ok;
  }
  std::cout << text;
  if (!text.empty() && text.back() != '\n')
    std::cout << '\n';
  return exit_ok;
}

// `caraway logs`: the worker processes of one node or of every live node,
// or the end of what one of them printed.
int show_logs(gcs_client& client, const settings& cfg) {
  std::vector<wire::node_info> nodes;
  if (!client.ask(nodes, wire::nodes_atom::value))
    return exit_failure;
  std::vector<wire::unique_id> ids;
  if (!cfg.node.empty()) {
    std::string why;
    auto listed = caraway::views::nodes_view(nodes);
    auto row = caraway::views::find_row(listed, cfg.node, why);
    wire::unique_id id;
    if (row == nullptr
        || !wire::from_string(row->at("id").get<std::string>(), id)) {
      std::cerr << "caraway: " << why << '\n';
      return exit_failure;
    }
    ids.push_back(id);
  } else {
    for (auto& node : nodes)
      if (node.alive)
        ids.push_back(node.id);
  }
  if (!cfg.component.empty())
    return show_component_log(client, cfg, ids);
  using node_workers
    = std::pair<wire::unique_id, std::vector<wire::worker_info>>;
  std::vector<node_workers> listing;
  for (auto& id : ids) {
    std::vector<wire::worker_info> workers;
    if (!client.ask(workers, wire::log_atom::value, id))
      return exit_failure;
    listing.emplace_back(id, std::move(workers));
  }
  if (cfg.worker == 0)
    return print_view(caraway::views::workers_view(listing), cfg);
  // The worker by its pid: on the node named, else on the one node that
  // has (or had) such a worker.
  std::vector<std::pair<wire::unique_id, wire::worker_info>> found;
  for (auto& [id, workers] : listing)
    for (auto& w : workers)
      if (w.pid == cfg.worker)
        found.emplace_back(id, w);
  if (found.size() != 1) {
    std::cerr << "caraway: "
              << (found.empty() ? "no worker process " : "worker processes ")
              << cfg.worker
              << (found.empty() ? (cfg.node.empty() ? " on a live node"
                                                    : " on node " + cfg.node)
                                : " on several nodes: name one with --node")
              << '\n';
    return exit_failure;
  }
  auto& [node, worker] = found.front();
  std::string out;
  std::string err;
  if (!client.ask_all(std::tie(out, err), wire::log_atom::value, node,
                      cfg.worker, cfg.tail))
    return exit_failure;
  if (cfg.json) {
    nlohmann::ordered_json x{{"node", wire::to_string(node)},
                             {"pid", worker.pid},
                             {"job", worker.job},
                             {"state", worker.alive ? "running" : "ended"},
                             {"stdout", out},
                             {"stderr", err}};
    std::cout << x.dump(2) << '\n';
    return exit_ok;
  }
  // As `tail` shows several files.
  std::cout << "==> " << worker.log << ".out <==\n" << out;
  if (!out.empty() && out.back() != '\n')
    std::cout << '\n';
  std::cout << "==> " << worker.log << ".err <==\n" << err;
  if (!err.empty() && err.back() != '\n')
    std::cout << '\n';
  return exit_ok;
}

// `caraway timeline`: the trace to a file (saying how many tasks it shows)
// or to stdout.
int write_timeline(gcs_client& client, const settings& cfg) {
  std::vector<wire::task_info> tasks;
  if (!client.ask(tasks, wire::tasks_atom::value))
    return exit_failure;
  size_t events = 0;
  auto trace = caraway::views::timeline_trace(tasks, &events);
  if (cfg.output.empty()) {
    std::cout << trace;
    return exit_ok;
  }
  std::ofstream out{cfg.output, std::ios::trunc};
  out << trace;
  out.close();
  if (!out) {
    std::cerr << "caraway: cannot write '" << cfg.output << "'\n";
    return exit_failure;
  }
  std::cout << "wrote " << events << (events == 1 ? " task" : " tasks")
            << " to " << cfg.output << '\n';
  return exit_ok;
}

// `caraway tls init|issue`: writes certificate files, says which.
int make_certificates(const settings& cfg) {
  // Valid from a day back (clocks that run late), until N days from now.
  runtime::tls::validity v;
  v.days = cfg.days - v.not_before_days;
  std::vector<std::string> written;
  try {
    written = cfg.command[1] == "init"
                ? runtime::tls::init(cfg.command[2], v, cfg.force)
                : runtime::tls::issue(cfg.dir, cfg.command[2], v, cfg.force);
  } catch (const caraway::invalid_argument_error& err) {
    std::cerr << "caraway: " << err.what() << '\n';
    return exit_usage;
  } catch (const caraway::error& err) {
    std::cerr << "caraway: " << err.what() << '\n';
    return exit_failure;
  }
  for (auto& path : written) {
    auto key = path.size() > 4 && path.compare(path.size() - 4, 4, ".key") == 0;
    std::cout << "wrote " << path << (key ? " (private key, mode 0600)" : "")
              << '\n';
  }
  return exit_ok;
}

// `caraway list|get|summary objects` and `caraway memory`.
int show_objects(gcs_client& client, const settings& cfg) {
  auto& cmd = cfg.command;
  wire::object_id id;
  if (cmd[0] == "get" && wire::from_string(cmd[2], id)) {
    wire::object_info one;
    if (!client.ask(one, wire::objects_atom::value, id))
      return exit_failure;
    return print_one(caraway::views::objects_view({one}), cmd[2], cfg);
  }
  bool wide = cmd[0] == "get" || cmd[0] == "summary" || !cfg.filters.empty();
  auto limit = caraway::views::objects_to_ask(wide, cfg.limit);
  std::vector<wire::object_info> objects;
  uint64_t total = 0;
  uint32_t silent = 0;
  if (!client.ask_all(std::tie(objects, total, silent),
                      wire::objects_atom::value, limit))
    return exit_failure;
  if (silent > 0)
    std::cerr << "caraway: " << silent << (silent == 1 ? " owner" : " owners")
              << " did not answer in time; their objects are left out\n";
  if (cmd[0] == "memory") {
    std::vector<wire::node_info> nodes;
    if (!client.ask(nodes, wire::nodes_atom::value))
      return exit_failure;
    std::cout
      << (cfg.json
            ? caraway::views::memory_json(nodes, objects, total, silent).dump(2)
                + '\n'
            : caraway::views::memory_text(nodes, objects, total, silent));
    return exit_ok;
  }
  if (cmd[0] == "get")
    return print_one(caraway::views::objects_view(objects), cmd[2], cfg);
  if (total > objects.size())
    std::cerr << "caraway: the owners own " << total << " objects; these are "
              << "the " << objects.size() << " largest\n";
  return print_view(cmd[0] == "summary"
                      ? caraway::views::object_summary(objects)
                      : caraway::views::objects_view(objects),
                    cfg);
}

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
  auto what = cmd.size() > 1 ? cmd[1] : std::string{};
  if (cmd[0] == "kill")
    return kill_actor(client, cfg);
  if (cmd[0] == "logs" || what == "workers")
    return show_logs(client, cfg);
  if (cmd[0] == "timeline")
    return write_timeline(client, cfg);
  if (cmd[0] == "memory" || what == "objects" || what == "object")
    return show_objects(client, cfg);
  if (cmd[0] == "status" || cmd[0] == "stop" || what == "nodes"
      || what == "node") {
    std::vector<wire::node_info> nodes;
    if (!client.ask(nodes, wire::nodes_atom::value))
      return exit_failure;
    if (cmd[0] == "status") {
      std::cout << (cfg.json ? caraway::views::status_json(nodes).dump(2) + '\n'
                             : caraway::views::status_text(nodes));
    } else if (cmd[0] == "list") {
      return print_view(caraway::views::nodes_view(nodes), cfg);
    } else if (cmd[0] == "get") {
      return print_one(caraway::views::nodes_view(nodes), cmd[2], cfg);
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
    return exit_ok;
  }
  caraway::views::view v;
  if (what == "placement-groups" || what == "placement-group") {
    std::vector<wire::placement_group_info> groups;
    if (!client.ask(groups, wire::group_atom::value))
      return exit_failure;
    v = caraway::views::groups_view(groups);
  } else if (what == "tasks" || what == "task") {
    std::vector<wire::task_info> tasks;
    if (!client.ask(tasks, wire::tasks_atom::value))
      return exit_failure;
    v = cmd[0] == "summary" ? caraway::views::task_summary(tasks)
                            : caraway::views::tasks_view(tasks);
  } else if (what == "actors" || what == "actor") {
    std::vector<wire::actor_info> actors;
    if (!client.ask(actors, wire::actors_atom::value))
      return exit_failure;
    v = cmd[0] == "summary" ? caraway::views::actor_summary(actors)
                            : caraway::views::actors_view(actors);
  } else {
    std::map<uint64_t, std::string> jobs;
    if (!client.ask(jobs, wire::jobs_atom::value))
      return exit_failure;
    v = caraway::views::jobs_view(jobs);
  }
  return cmd[0] == "get" ? print_one(v, cmd[2], cfg) : print_view(v, cfg);
}

} // namespace

int main(int argc, char** argv) {
  settings cfg;
  if (auto rc = parse(argc, argv, cfg))
    return *rc;
  if (cfg.command[0] == "tls")
    return make_certificates(cfg);
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
  try {
    runtime::resolve_tls(cfg.tls, runtime::tls_role::client);
    runtime::set_tls_handshake_timeout(cfg.timeout);
    auto tls = runtime::configure_tls(caf_cfg, cfg.tls);
    runtime::require_tls_off_loopback(tls, cfg.host,
                                      "reach the head at " + cfg.address,
                                      runtime::driver_tls_options);
  } catch (const caraway::invalid_argument_error& err) {
    std::cerr << "caraway: " << err.what() << '\n';
    return exit_usage;
  }
  wire::add_message_types(caf_cfg);
  caf::actor_system sys{caf_cfg};
  return run(sys, cfg);
}
