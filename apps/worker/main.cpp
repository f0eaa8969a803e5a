// caraway-worker: a worker process. A node running tasks in processes
// starts one per job and worker slot; users never start it themselves.

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "caraway/caraway.hpp"
#include "caraway/config.hpp"
#include "caraway/runtime/node.hpp"
#include "caraway/runtime/worker.hpp"

namespace po = boost::program_options;

namespace {

constexpr int exit_bad_config = 2;
constexpr int exit_failure = 1;

std::atomic<bool> terminated{false};

extern "C" void on_term(int) {
  terminated = true;
}

// A task calling exit() would run the static destructors under threads
// still using them, and can hang there for good: the process ends at once
// instead, with the task's exit code, which its raylet reports.
extern "C" void exit_now(int status, void*) {
  std::fflush(nullptr);
  std::_Exit(status);
}

} // namespace

int main(int argc, char** argv) {
  caraway::runtime::worker_options opts;
  caraway::config cfg;
  cfg.log_level = "info";
  po::options_description desc{"caraway-worker options (set by the node)"};
  // clang-format off
  desc.add_options()
    ("raylet", po::value(&opts.raylet_address)->required(),
     "host:port of the node's raylet")
    ("head", po::value(&opts.head_address)->required(), "host:port of the head")
    ("node", po::value(&opts.node_id)->required(), "the node's id")
    ("job", po::value(&opts.job)->required(), "the job whose tasks it runs")
    ("token", po::value(&opts.token)->required(),
     "what the raylet knows this worker by")
    ("store", po::value(&opts.store_socket)->required(),
     "the Unix socket of the node's object store")
    ("data-address", po::value(&opts.data_address)->required(),
     "host:port where the node serves its objects to other nodes")
    ("library", po::value(&opts.libraries)->composing(),
     "a library with the job's code; repeatable")
    ("log-level", po::value(&cfg.log_level), "as caraway-node's")
    ("max-message-bytes", po::value(&cfg.max_message_bytes),
     "as caraway-node's")
    ("tls-ca", po::value(&cfg.tls_ca), "as caraway-node's")
    ("tls-cert", po::value(&cfg.tls_cert), "as caraway-node's")
    ("tls-key", po::value(&cfg.tls_key), "as caraway-node's");
  // clang-format on
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "caraway-worker: invalid option: "
              << caraway::detail::option_error_text(
                   e, caraway::detail::arguments_text(argc, argv))
              << '\n'
              << desc << '\n';
    return exit_bad_config;
  }
  struct sigaction sa {};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  try {
    caraway::runtime::start_worker(cfg, opts);
  } catch (const std::exception& e) {
    std::cerr << "caraway-worker (job " << opts.job << "): " << e.what()
              << '\n';
    return exit_failure;
  }
  on_exit(exit_now, nullptr);
  // Ends with its raylet (the node stopped or died) or on SIGTERM.
  caraway::runtime::wait_node([] { return terminated.load(); });
  // Tasks still running have nobody to report to: the process goes without
  // waiting for them.
  std::thread{[] {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    std::_Exit(0);
  }}.detach();
  caraway::shutdown();
  return 0;
}
