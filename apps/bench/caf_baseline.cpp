#include "caf_baseline.hpp"

#include <pthread.h>
#include <signal.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <future>
#include <iostream>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "process.hpp"

namespace bench {

namespace {

// What one client run measured.
struct client_result {
  int64_t ops = 0;
  double seconds = 0;
  std::vector<double> latencies_us; // only when one request is in flight
};

caf::behavior echo_server(caf::event_based_actor*) {
  return {
    [](int64_t x) { return x; },
  };
}

// Keeps `window` requests to the server in flight until the deadline passes,
// then waits for the last answers and reports.
class client_actor : public caf::event_based_actor {
public:
  client_actor(caf::actor_config& cfg, caf::actor server, int window,
               clock::duration length,
               std::shared_ptr<std::promise<client_result>> done)
    : caf::event_based_actor(cfg),
      server_(std::move(server)),
      window_(window),
      length_(length),
      done_(std::move(done)) {
    // nop
  }

  caf::behavior make_behavior() override {
    start_ = clock::now();
    deadline_ = start_ + length_;
    for (int i = 0; i < window_; ++i)
      send_one();
    // Answers arrive through the response handlers; nothing else comes in.
    return {
      [](int64_t) {},
    };
  }

private:
  void send_one() {
    ++in_flight_;
    auto sent = clock::now();
    auto x = next_++;
    request(server_, caf::infinite, x).then([this, sent, x](int64_t y) {
      auto now = clock::now();
      --in_flight_;
      if (y != x)
        mismatch_ = true;
      ++result_.ops;
      if (window_ == 1)
        result_.latencies_us.emplace_back(
          std::chrono::duration<double, std::micro>(now - sent).count());
      if (now < deadline_)
        send_one();
      else if (in_flight_ == 0)
        finish();
    });
  }

  void finish() {
    result_.seconds = seconds_since(start_);
    if (mismatch_)
      done_->set_exception(std::make_exception_ptr(
        std::runtime_error("the echo server answered a wrong value")));
    else
      done_->set_value(std::move(result_));
    quit();
  }

  caf::actor server_;
  int window_;
  clock::duration length_;
  std::shared_ptr<std::promise<client_result>> done_;
  clock::time_point start_;
  clock::time_point deadline_;
  int in_flight_ = 0;
  int64_t next_ = 0;
  bool mismatch_ = false;
  client_result result_;
};

client_result run_client(caf::actor_system& sys, const caf::actor& server,
                         int window, clock::duration length) {
  auto done = std::make_shared<std::promise<client_result>>();
  auto result = done->get_future();
  sys.spawn<client_actor>(server, window, length, done);
  return result.get();
}

// Measures request/response round trips to `server` and prints
// `<prefix>_sync`, `<prefix>_sync_latency`, `<prefix>_pipelined` and
// `<prefix>_blocking_sync`.
void measure_echo(const settings& cfg, report& out, caf::actor_system& sys,
                  const caf::actor& server, const std::string& prefix) {
  std::vector<double> latencies;
  auto sync = median_of_trials(cfg, [&](clock::duration length) {
    auto res = run_client(sys, server, 1, length);
    latencies.insert(latencies.end(), res.latencies_us.begin(),
                     res.latencies_us.end());
    return res.ops / res.seconds;
  });
  out.print(prefix + "_sync", sync, "ops/s");
  out.print(prefix + "_sync_latency", median(latencies), "us");
  // 64 requests in flight hide the round trip and show raw throughput.
  auto pipelined = median_of_trials(cfg, [&](clock::duration length) {
    auto res = run_client(sys, server, 64, length);
    return res.ops / res.seconds;
  });
  out.print(prefix + "_pipelined", pipelined, "ops/s");
  // A blocking thread waiting for each answer, as a caraway driver does in
  // `get`.
  auto blocking = median_of_trials(cfg, [&](clock::duration length) {
    caf::scoped_actor self{sys};
    int64_t x = 0;
    return ops_per_second(length, [&] {
      bool ok = false;
      self->request(server, caf::infinite, x)
        .receive([&](int64_t y) { ok = y == x; }, [&](caf::error&) {});
      if (!ok)
        throw std::runtime_error("the echo server did not answer");
      ++x;
      return 1;
    });
  });
  out.print(prefix + "_blocking_sync", blocking, "ops/s");
}

// Both ends of the remote baseline: the scheduler caraway uses, and the
// multiplexer thread doing all network I/O itself, with no extra threads
// handing messages over.
void configure_remote(caf::actor_system_config& caf_cfg) {
  caf_cfg.load<caf::io::middleman>();
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf_cfg.set("middleman.workers", size_t{0});
}

} // namespace

void run_caf_baseline(const settings& cfg, report& out) {
  caf::actor_system_config caf_cfg;
  // The same scheduler caraway configures for its embedded node.
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{caf_cfg};
  auto server = sys.spawn(echo_server);
  measure_echo(cfg, out, sys, server, "caf_baseline");
  caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
}

int run_caf_echo_server() {
  // SIGTERM from the bench (or from its death) ends the wait below; blocked
  // before CAF starts its threads, so that none of them takes it.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  caf::actor_system_config caf_cfg;
  configure_remote(caf_cfg);
  caf::actor_system sys{caf_cfg};
  auto server = sys.spawn(echo_server);
  auto port = sys.middleman().publish(server, 0, "127.0.0.1");
  if (!port) {
    std::cerr << "caf echo server: cannot listen: " << sys.render(port.error())
              << '\n';
    caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
    return EXIT_FAILURE;
  }
  std::cout << "caf echo server listening on 127.0.0.1:" << *port << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  caf::anon_send_exit(server, caf::exit_reason::user_shutdown);
  return EXIT_SUCCESS;
}

void run_caf_remote_baseline(const settings& cfg, report& out,
                             const std::string& exe) {
  temp_dir dir;
  child_process child{{exe, caf_echo_server_flag},
                      dir.path() + "/caf-echo.out",
                      dir.path() + "/caf-echo.err"};
  static const std::regex started{"listening on 127\\.0\\.0\\.1:([0-9]+)$"};
  auto match = child.wait_for_line(started, std::chrono::seconds(30));
  auto port = static_cast<uint16_t>(std::stoul(match[1]));
  {
    caf::actor_system_config caf_cfg;
    configure_remote(caf_cfg);
    caf::actor_system sys{caf_cfg};
    auto server = sys.middleman().remote_actor("127.0.0.1", port);
    if (!server)
      throw std::runtime_error("cannot reach the CAF echo server: "
                               + sys.render(server.error()));
    measure_echo(cfg, out, sys, *server, "caf_remote_baseline");
  }
  auto how = child.stop(std::chrono::seconds(5));
  if (!child.clean_exit())
    throw std::runtime_error("the CAF echo server " + how + child.err_tail());
}

void run_memcpy_baseline(const settings& cfg, report& out, size_t bytes) {
  std::vector<double> src(bytes / sizeof(double));
  for (size_t i = 0; i < src.size(); ++i)
    src[i] = static_cast<double>(i);
  // Lays the copy out as the encoder does (a size header, then the values)
  // in memory that is already mapped, as the store's reused memory is.
  std::vector<char> dst(sizeof(uint64_t) + bytes);
  volatile char sink = 0;
  auto gbps = median_of_trials(cfg, [&](clock::duration length) {
    auto copies = ops_per_second(length, [&] {
      std::memcpy(dst.data() + sizeof(uint64_t), src.data(), bytes);
      sink = sink + dst[bytes / 2];
      return 1;
    });
    return copies * static_cast<double>(bytes) / 1e9;
  });
  out.print("memcpy_baseline_gigabytes", gbps, "GB/s");
}

} // namespace bench
