#include "caraway/config.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include <boost/program_options.hpp>

#include "caraway/detail/core.hpp"
#include "caraway/error.hpp"

namespace po = boost::program_options;

namespace caraway {

namespace {

constexpr const char* flag_prefix = "--caraway-";

po::options_description
make_options(config& cfg, std::vector<std::string>& caf_opts,
             std::string& resources, std::string& libraries, std::string& file,
             int& data_port) {
  po::options_description desc{"caraway options"};
  desc.add_options()(
    "address", po::value(&cfg.address),
    "host:port of a cluster's head; empty starts an embedded cluster")(
    "worker-processes", po::value(&cfg.worker_processes)->implicit_value(true),
    "with no address: run tasks in worker processes of a head node this "
    "application starts (true or false)")(
    "node-binary", po::value(&cfg.node_binary),
    "the caraway-node program for worker-processes (default: next to the "
    "executable, else the installed one)")(
    "num-cpus", po::value(&cfg.num_cpus),
    "CPUs of the embedded node (default: the machine's cores)")(
    "num-gpus", po::value(&cfg.num_gpus), "GPUs of the embedded node")(
    "resources", po::value(&resources),
    "custom resources of the embedded node, e.g. ssd:2,tpu:1")(
    "object-store-memory", po::value(&cfg.object_store_memory),
    "bytes the embedded object store may hold (default: 30% of memory)")(
    "inline-threshold", po::value(&cfg.inline_threshold),
    "values of at least this many bytes go to the object store")(
    "namespace", po::value(&cfg.ns),
    "namespace for named actors")("max-workers", po::value(&cfg.max_workers),
                                  "most executor threads of the embedded node")(
    "log-to-driver", po::value(&cfg.log_to_driver),
    "show on stderr what this driver's tasks and actors print in worker "
    "processes (true or false)")(
    "task-events", po::value(&cfg.task_events),
    "in a cluster, report what becomes of each task to the head's task "
    "table, in batches (true or false)")(
    "get-spin-us", po::value(&cfg.get_spin_us),
    "how long an embedded driver's get spins before it sleeps "
    "(microseconds)")(
    "cluster-get-spin-us", po::value(&cfg.cluster_get_spin_us),
    "how long a cluster driver's get spins before it sleeps (microseconds)")(
    "io-thread-actors", po::value(&cfg.io_thread_actors),
    "in a cluster, the owner and the raylet run on the network I/O "
    "thread (true or false)")(
    "host", po::value(&cfg.host),
    "a cluster driver's address for its data server (default: the one "
    "that routes to the head)")(
    "dashboard-port", po::value(&cfg.dashboard_port),
    "an embedded cluster: serve the web dashboard on this port of "
    "127.0.0.1 (0: a free one; default: none)")(
    "data-port", po::value(&data_port),
    "a cluster driver's data server port (default: any free one)")(
    "node", po::value(&cfg.node),
    "a cluster driver: the node (id, its first 8+ hex digits, or "
    "host:port) whose raylet it asks for workers (default: a node on this "
    "machine)")("connect-timeout-ms", po::value(&cfg.connect_timeout_ms),
                "how long a driver tries to reach the cluster's head")(
    "request-timeout-ms", po::value(&cfg.request_timeout_ms),
    "how long a request to a cluster component may take")(
    "max-message-bytes", po::value(&cfg.max_message_bytes),
    "largest message accepted from another process; a peer announcing a "
    "larger one is disconnected")(
    "head-reconnect-timeout-ms", po::value(&cfg.head_reconnect_timeout_ms),
    "how long a driver that lost the head tries to reach it again")(
    "lineage-bytes", po::value(&cfg.lineage_bytes),
    "bytes of task specs kept to rebuild lost objects (lineage)")(
    "lease-linger-ms", po::value(&cfg.lease_linger_ms),
    "how long an idle worker lease is kept for the next task of its shape")(
    "max-lease-requests", po::value(&cfg.max_lease_requests),
    "lease requests in flight per task shape, at most")(
    "tls-ca", po::value(&cfg.tls_ca),
    "mutual TLS: the cluster CA's certificate (PEM; see caraway tls init)")(
    "tls-cert", po::value(&cfg.tls_cert),
    "mutual TLS: this driver's certificate, signed by the CA (PEM)")(
    "tls-key", po::value(&cfg.tls_key),
    "mutual TLS: the key of that certificate (PEM)")(
    "tls-dir", po::value(&cfg.tls_dir),
    "mutual TLS: a directory as caraway tls init makes, instead of the "
    "three files (default: ~/.caraway/tls, made on first use)")(
    "insecure-loopback",
    po::value(&cfg.insecure_loopback)->implicit_value(true),
    "no TLS: for a cluster on loopback whose nodes run with "
    "--insecure-loopback (true or false)")(
    "log-level", po::value(&cfg.log_level),
    "trace, debug, info, warning, error or off")(
    "libraries", po::value(&libraries)->implicit_value(""),
    "comma-separated shared libraries with the app's tasks, which a "
    "driver has every node load (default: lib<app>_tasks.so next to the "
    "executable, if there is one)")(
    "caf", po::value(&caf_opts)->composing(),
    "a CAF option as key=value, e.g. scheduler.max-threads=4")(
    "config", po::value(&file), "an INI file with these options");
  return desc;
}

// "a.so,,b.so" -> {"a.so", "b.so"}; empty text gives an empty list.
std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> result;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto end = comma == std::string::npos ? text.size() : comma;
    if (end > pos)
      result.emplace_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return result;
}

double parse_amount(const std::string& name, const std::string& text) {
  char* end = nullptr;
  auto value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    throw invalid_argument_error("resource '" + name + "' has amount '" + text
                                 + "', which is not a number");
  detail::check_resource(name, value);
  return value;
}

} // namespace

namespace detail {

std::string option_error_text(const std::exception& e,
                              const std::string& input) {
  auto named = dynamic_cast<const po::error_with_option_name*>(&e);
  if (named == nullptr || input.find('%') == std::string::npos)
    return e.what();
  std::string problem = "is invalid";
  if (dynamic_cast<const po::unknown_option*>(&e) != nullptr)
    problem = "is unknown";
  else if (dynamic_cast<const po::invalid_option_value*>(&e) != nullptr)
    problem = "has an invalid value";
  else if (dynamic_cast<const po::multiple_occurrences*>(&e) != nullptr)
    problem = "is given more than once";
  else if (dynamic_cast<const po::invalid_syntax*>(&e) != nullptr)
    problem = "is malformed";
  return "option '" + named->get_option_name() + "' " + problem;
}

std::string arguments_text(int argc, const char* const* argv) {
  std::string result;
  for (int i = 1; i < argc; ++i)
    result += std::string{argv[i] != nullptr ? argv[i] : ""} + '\n';
  return result;
}

} // namespace detail

std::map<std::string, double> parse_resources(const std::string& text) {
  std::map<std::string, double> result;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto item = text.substr(pos, comma == std::string::npos ? std::string::npos
                                                            : comma - pos);
    if (!item.empty()) {
      auto colon = item.find(':');
      if (colon == std::string::npos)
        throw invalid_argument_error("resource '" + item
                                     + "' needs the form name:amount");
      auto name = item.substr(0, colon);
      detail::check_resource(name, 0);
      result[name] = parse_amount(name, item.substr(colon + 1));
    }
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return result;
}

config parse_config(int argc, const char* const* argv) {
  config cfg;
  std::vector<std::string> caf_opts;
  std::string resources;
  std::string libraries;
  std::string file;
  // Read as int: Boost's conversion to 16 bits overflows an int inside.
  int data_port = cfg.data_port;
  auto desc = make_options(cfg, caf_opts, resources, libraries, file,
                           data_port);
  // Pick out --caraway-... flags; everything else belongs to the user.
  std::vector<std::string> args;
  std::string prefix = flag_prefix;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i] != nullptr ? argv[i] : "";
    if (arg.compare(0, prefix.size(), prefix) != 0)
      continue;
    auto rest = arg.substr(prefix.size());
    // Boost rejects "--name=" with nothing after it; "--name" alone takes
    // the option's implicit value, if it has one.
    // A switch takes the next argument only if it is true or false: the
    // application's own arguments may follow it.
    auto takes = [&](const std::string& next) {
      if (next.compare(0, 2, "--") == 0)
        return false;
      bool is_switch = rest == "worker-processes"
                       || rest == "insecure-loopback";
      return !is_switch || next == "true" || next == "false";
    };
    if (!rest.empty() && rest.back() == '=')
      rest.pop_back();
    else if (rest.find('=') == std::string::npos && i + 1 < argc
             && takes(argv[i + 1])) {
      rest += '=';
      rest += argv[++i];
    }
    args.emplace_back("--" + rest);
  }
  po::variables_map vm;
  // What Boost reads, for its error messages.
  std::string input;
  for (auto& arg : args)
    input += arg + '\n';
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    for (auto [name, var] :
         {std::pair{"address", "CARAWAY_ADDRESS"},
          std::pair{"libraries", "CARAWAY_LIBRARIES"},
          std::pair{"tls-ca", "CARAWAY_TLS_CA"},
          std::pair{"tls-cert", "CARAWAY_TLS_CERT"},
          std::pair{"tls-key", "CARAWAY_TLS_KEY"},
          std::pair{"tls-dir", "CARAWAY_TLS_DIR"},
          std::pair{"insecure-loopback", "CARAWAY_INSECURE_LOOPBACK"}}) {
      if (vm.count(name) > 0)
        continue;
      if (auto env = std::getenv(var); env && *env) {
        std::vector<std::string> env_args{"--" + std::string{name} + "=" + env};
        input += env_args.front() + '\n';
        po::store(po::command_line_parser(env_args).options(desc).run(), vm);
      }
    }
    if (vm.count("config") > 0) {
      auto path = vm["config"].as<std::string>();
      std::ifstream file{path};
      if (!file)
        throw invalid_argument_error("cannot read config file '" + path + "'");
      std::string text{std::istreambuf_iterator<char>{file}, {}};
      input += text;
      std::istringstream in{text};
      po::store(po::parse_config_file(in, desc), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw invalid_argument_error("invalid caraway option: "
                                 + detail::option_error_text(e, input));
  }
  if (data_port < 0 || data_port > 65535)
    throw invalid_argument_error("data-port must be a port number, got "
                                 + std::to_string(data_port));
  cfg.data_port = static_cast<uint16_t>(data_port);
  if (cfg.dashboard_port < -1 || cfg.dashboard_port > 65535)
    throw invalid_argument_error("dashboard-port must be a port number (0: "
                                 "a free one, -1: none), got "
                                 + std::to_string(cfg.dashboard_port));
  if (!resources.empty())
    cfg.resources = parse_resources(resources);
  if (vm.count("libraries") > 0)
    cfg.libraries = split_list(libraries);
  if (vm.count("num-cpus") > 0
      && (std::isnan(cfg.num_cpus) || std::isinf(cfg.num_cpus)
          || cfg.num_cpus < 0))
    throw invalid_argument_error("num-cpus must be a non-negative number");
  for (auto& opt : caf_opts) {
    auto eq = opt.find('=');
    if (eq == std::string::npos || eq == 0)
      throw invalid_argument_error("CAF option '" + opt
                                   + "' needs the form key=value");
    cfg.caf[opt.substr(0, eq)] = opt.substr(eq + 1);
  }
  return cfg;
}

} // namespace caraway
