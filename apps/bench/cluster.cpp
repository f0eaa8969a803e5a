#include "cluster.hpp"

#include <filesystem>
#include <iostream>
#include <regex>
#include <stdexcept>

namespace bench {

namespace {

namespace fs = std::filesystem;

// A node needs well under a second to start; the bound leaves room for a
// loaded machine.
constexpr auto start_timeout = std::chrono::seconds(30);

// A node stops in well under a second too; after this it gets SIGKILL.
constexpr auto stop_grace = std::chrono::seconds(10);

std::string find_file(const fs::path& path, const char* what) {
  std::error_code ec;
  auto canonical = fs::weakly_canonical(path, ec);
  if (ec || !fs::exists(canonical))
    throw std::runtime_error(std::string{what} + " not found at "
                             + path.string() + ": build it first");
  return canonical.string();
}

} // namespace

cluster_files cluster_files::next_to(const std::string& exe) {
  auto bin = fs::path{exe}.parent_path();
  cluster_files result;
  result.node = find_file(bin / "caraway-node", "caraway-node");
  // Optional: only --address needs it, and says so if it is missing.
  result.cli = (bin / "caraway").string();
  result.library = find_file(bin / ".." / "lib" / "libcaraway-bench_tasks.so",
                             "the bench's task library");
  return result;
}

local_cluster::local_cluster(int nodes, const cluster_files& files,
                             const std::string& worker_mode, bool tls) {
  if (nodes < 1 || nodes > 3)
    throw std::invalid_argument("a local cluster has 1 to 3 nodes");
  std::vector<std::string> common{"--libraries", files.library, "--worker-mode",
                                  worker_mode};
  if (tls) {
    tls_dir_ = dir_.path() + "/tls";
    child_process init{{files.cli, "tls", "init", tls_dir_},
                       dir_.path() + "/tls-init.out",
                       dir_.path() + "/tls-init.err"};
    if (!init.wait_exit(start_timeout) || !init.clean_exit())
      throw std::runtime_error("caraway tls init failed:" + init.err_tail());
    common.insert(common.end(), {"--tls-ca", tls_dir_ + "/ca.pem", "--tls-cert",
                                 tls_dir_ + "/node.pem", "--tls-key",
                                 tls_dir_ + "/node.key"});
  } else {
    common.emplace_back("--insecure-loopback");
  }
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    return args;
  };
  // Port 0: the kernel picks a free port and the node prints it.
  start_node(with({files.node, "--port", "0", "--num-cpus", "2",
                   "--dashboard-port", "-1"}),
             "head");
  if (nodes > 1)
    start_node(with({files.node, "--role", "worker", "--head-address", address_,
                     "--num-cpus", "1", "--resources", "tpu:1"}),
               "worker1");
  if (nodes > 2)
    start_node(with({files.node, "--role", "worker", "--head-address", address_,
                     "--num-cpus", "2"}),
               "worker2");
}

void local_cluster::use_tls(caraway::config& cfg) const {
  if (tls_dir_.empty()) {
    cfg.insecure_loopback = true;
    return;
  }
  cfg.tls_ca = tls_dir_ + "/ca.pem";
  cfg.tls_cert = tls_dir_ + "/client.pem";
  cfg.tls_key = tls_dir_ + "/client.key";
}

local_cluster::~local_cluster() {
  try {
    stop();
  } catch (const std::exception& e) {
    std::cerr << "caraway-bench: " << e.what() << '\n';
  }
}

void local_cluster::start_node(const std::vector<std::string>& args,
                               const std::string& name) {
  auto base = dir_.path() + "/" + name;
  // Its files (worker logs, the gcs' tables) go with the cluster's.
  auto with_dir = args;
  with_dir.insert(with_dir.end(), {"--data-dir", base + "-data"});
  nodes_.emplace_back(
    std::make_unique<child_process>(with_dir, base + ".out", base + ".err"));
  static const std::regex started{
    "^caraway-node (head|worker) listening on "
    "(127\\.0\\.0\\.1:[0-9]+) node ([0-9a-f]+)( .*)?$"};
  auto match = nodes_.back()->wait_for_line(started, start_timeout);
  if (address_.empty())
    address_ = match[2];
  node_ids_.emplace_back(match[3]);
}

void local_cluster::print_logs(std::ostream& out) const {
  for (auto& node : nodes_)
    out << "caraway-bench: " << node->name() << node->err_tail() << '\n';
}

void local_cluster::stop() {
  if (nodes_.empty())
    return;
  std::string problems;
  // Workers first: the head going away first would only make them log
  // that they lost it.
  for (auto i = nodes_.size(); i-- > 0;) {
    auto& node = *nodes_[i];
    auto how = node.stop(stop_grace);
    if (!node.clean_exit())
      problems += "\n  " + node.name() + " " + how + node.err_tail(10);
    else if (auto tail = node.err_tail(3);
             tail.find("shutdown did not finish") != std::string::npos)
      std::cerr << "caraway-bench: note: " << node.name() << tail << '\n';
  }
  auto count = nodes_.size();
  nodes_.clear();
  if (!problems.empty())
    throw std::runtime_error("the local cluster did not stop cleanly:"
                             + problems);
  std::cerr << "caraway-bench: stopped the local cluster (" << count
            << (count == 1 ? " node" : " nodes") << ")\n";
}

} // namespace bench
