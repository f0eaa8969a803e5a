// Message flows between components, played out on CAF's deterministic
// scheduler with fakes standing in for the other side.

#include <doctest/doctest.h>

#include <functional>
#include <map>

#include "caraway/error.hpp"
#include "caraway/node/executor.hpp"
#include "caraway/node/raylet.hpp"
#include "caraway/node/store_memory.hpp"
#include "caraway/wire/errc.hpp"
#include "deterministic.hpp"
#include "fake_gcs.hpp"
#include "fake_owner.hpp"
#include "fake_raylet.hpp"
#include "owner/core_worker.hpp"
#include "owner/service.hpp"

using namespace caraway;

namespace {

wire::task_spec cpu_task(uint64_t n, double cpus = 1) {
  wire::task_spec spec;
  spec.id = {7, n};
  spec.function = "f";
  spec.resources = {{"CPU", cpus}};
  return spec;
}

struct raylet_fixture : test::deterministic_fixture {
  std::shared_ptr<test::gcs_log> gcs_log = std::make_shared<test::gcs_log>();
  std::shared_ptr<test::executor_log> exec_log
    = std::make_shared<test::executor_log>();
  wire::gcs_actor gcs = sys.spawn(test::fake_gcs, gcs_log);

  /// A raylet of node {1, 1}; `customize` may change what it starts.
  wire::raylet_actor
  make_raylet(wire::resource_set total,
              const std::function<void(node::worker_factory&)>& customize
              = nullptr) {
    wire::node_info info;
    info.id = {1, 1};
    info.total = std::move(total);
    node::worker_factory factory;
    factory.spawn_executor = [this](wire::raylet_actor) {
      return wire::executor_actor{sys.spawn(test::fake_executor, exec_log)};
    };
    if (customize)
      customize(factory);
    wire::raylet_actor result = sys.spawn(node::raylet, info, uint32_t{4},
                                          std::move(factory), gcs, 0.5);
    run();
    return result;
  }

  /// Stops these actors.
  template <class... Ts>
  void shut_down(const Ts&... xs) {
    (caf::anon_send_exit(xs, caf::exit_reason::user_shutdown), ...);
  }

  ~raylet_fixture() {
    caf::anon_send_exit(gcs, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

namespace {

/// What a lessee heard back from a raylet: grants and spillbacks, in order.
struct lease_log {
  struct reply {
    wire::executor_actor executor;
    uint64_t lease = 0;
    wire::unique_id node;
    std::string address;
  };
  std::vector<reply> replies;
  std::vector<caf::error> errors;
  /// Leases whose worker process died, with why.
  std::vector<std::pair<uint64_t, std::string>> dead;
};

// Leases for job 1; hears of their worker processes' deaths as an owner.
using lessee_actor = caf::typed_actor<
  caf::reacts_to<wire::lease_atom, wire::resource_set, uint32_t, uint64_t>,
  caf::reacts_to<wire::dead_atom, uint64_t, std::string>>;

// Asks `raylet` for a lease of the given shape per message, as an owner
// would, and records each answer.
lessee_actor::behavior_type lessee(lessee_actor::pointer self,
                                   wire::raylet_actor raylet,
                                   std::shared_ptr<lease_log> log) {
  return {
    [=](wire::lease_atom, const wire::resource_set& shape, uint32_t depth,
        uint64_t worker) {
      self
        ->request(raylet, caf::infinite, wire::lease_atom::value, shape, depth,
                  worker, false, uint8_t{0}, wire::unique_id{}, false,
                  uint64_t{1})
        .then(
          [=](wire::executor_actor& exec, uint64_t lease, wire::unique_id& node,
              std::string& address) {
            log->replies.push_back(
              {std::move(exec), lease, node, std::move(address)});
          },
          [=](caf::error& err) { log->errors.push_back(std::move(err)); });
    },
    [=](wire::dead_atom, uint64_t lease, std::string& why) {
      log->dead.emplace_back(lease, std::move(why));
    },
  };
}

} // namespace

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet grants leases while resources last and queues "
                  "the rest") {
  auto raylet = make_raylet({{"CPU", 2}});
  auto log = std::make_shared<lease_log>();
  auto owner = sys.spawn(lessee, raylet, log);
  wire::resource_set one{{"CPU", 1}};
  for (int i = 0; i < 5; ++i)
    caf::anon_send(owner, wire::lease_atom::value, one, uint32_t{0},
                   uint64_t{7});
  run();
  // Two CPUs: two grants, on two executors, here.
  REQUIRE(log->replies.size() == 2);
  for (auto& r : log->replies) {
    CHECK(r.executor);
    CHECK(r.node == wire::unique_id{1, 1});
  }
  CHECK(log->replies[0].lease != log->replies[1].lease);
  CHECK(log->replies[0].executor != log->replies[1].executor);
  // A lease given back frees its CPU and its executor for the next request.
  caf::anon_send(raylet, wire::done_atom::value, log->replies[0].lease);
  run();
  REQUIRE(log->replies.size() == 3);
  CHECK(log->replies[2].executor == log->replies[0].executor);
  // Its report to the gcs comes with the next timer, not per message.
  CHECK(gcs_log->reports.empty());
  trigger_timeouts();
  REQUIRE_FALSE(gcs_log->reports.empty());
  CHECK(gcs_log->reports.back().pending_tasks == 2);
  CHECK(gcs_log->reports.back().available.at("CPU") == doctest::Approx(0));
  // The owner is gone: its waiting requests fail, its leases end.
  caf::anon_send(raylet, wire::free_atom::value, uint64_t{7});
  run();
  CHECK(log->errors.size() == 2);
  shut_down(owner, raylet);
}

namespace {

// Worker processes as a raylet sees them: started, ended, killed (no real
// process; the test says when one ends).
struct fake_processes {
  struct started {
    uint64_t job;
    std::vector<std::string> libraries;
    uint64_t token;
  };
  std::vector<started> starts;
  std::map<int32_t, std::string> ended; // pid -> why, until reaped
  std::vector<int32_t> killed;
  bool fail_start = false;

  static int32_t pid_of(size_t index) {
    return static_cast<int32_t>(1000 + index);
  }

  /// For `make_raylet`.
  std::function<void(node::worker_factory&)> installer() {
    return [this](node::worker_factory& factory) { install(factory); };
  }

  void install(node::worker_factory& factory) {
    factory.start_worker = [this](uint64_t job,
                                  const std::vector<std::string>& libs,
                                  uint64_t token, std::string& why) {
      if (fail_start) {
        why = "no such program";
        return int32_t{0};
      }
      starts.push_back({job, libs, token});
      return pid_of(starts.size() - 1);
    };
    factory.reap_worker = [this](int32_t pid) {
      auto i = ended.find(pid);
      if (i == ended.end())
        return std::string{};
      auto why = i->second;
      ended.erase(i);
      return why;
    };
    factory.kill_worker = [this](int32_t pid) {
      killed.push_back(pid);
      ended.emplace(pid, "was killed by signal 9 (SIGKILL)");
    };
  }
};

// Every process started so far registers, all under one executor.
template <class Raylet>
void register_all(const Raylet& raylet, const fake_processes& procs,
                  const wire::executor_actor& exec) {
  for (size_t i = 0; i < procs.starts.size(); ++i)
    caf::anon_send(raylet, wire::register_atom::value, procs.starts[i].token,
                   exec, fake_processes::pid_of(i), std::string{"h:1"});
}

} // namespace

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet with worker processes starts them per job, "
                  "leases them once registered and reports their deaths") {
  fake_processes procs;
  auto raylet = make_raylet({{"CPU", 1}}, procs.installer());
  auto log = std::make_shared<lease_log>();
  auto owner = sys.spawn(lessee, raylet, log);
  wire::resource_set one{{"CPU", 1}};
  caf::anon_send(raylet, wire::load_atom::value, uint64_t{1},
                 std::vector<std::string>{"/x/job1.so"});
  run();
  caf::anon_send(owner, wire::lease_atom::value, one, uint32_t{0}, uint64_t{7});
  caf::anon_send(owner, wire::lease_atom::value, one, uint32_t{0}, uint64_t{7});
  run();
  // One CPU: one process for the two requests, with the job's code; no
  // lease until it registers.
  REQUIRE(procs.starts.size() == 1);
  CHECK(procs.starts[0].job == 1);
  CHECK(procs.starts[0].libraries == std::vector<std::string>{"/x/job1.so"});
  CHECK(log->replies.empty());
  auto exec = wire::executor_actor{sys.spawn(test::fake_executor, exec_log)};
  // A process it did not start (wrong pid) is not taken.
  caf::anon_send(raylet, wire::register_atom::value, procs.starts[0].token,
                 exec, int32_t{4242}, std::string{"127.0.0.1:4000"});
  run();
  CHECK(log->replies.empty());
  caf::anon_send(raylet, wire::register_atom::value, procs.starts[0].token,
                 exec, fake_processes::pid_of(0),
                 std::string{"127.0.0.1:4000"});
  run();
  REQUIRE(log->replies.size() == 1);
  CHECK(log->replies[0].executor == exec);
  // The owner learns where to reach the worker directly.
  CHECK(log->replies[0].address == "127.0.0.1:4000");
  auto first = log->replies[0].lease;
  // The worker dies running the lease: the owner hears why, the CPU comes
  // back and the waiting request gets a new process.
  procs.ended[fake_processes::pid_of(0)] = "was killed by signal 6 (SIGABRT)";
  trigger_timeouts();
  run();
  REQUIRE(log->dead.size() == 1);
  CHECK(log->dead[0].first == first);
  CHECK(log->dead[0].second.find("signal 6 (SIGABRT)") != std::string::npos);
  CHECK(
    log->dead[0].second.find("node " + wire::to_string(wire::unique_id{1, 1}))
    != std::string::npos);
  REQUIRE(procs.starts.size() == 2);
  // A job that ended takes its processes along.
  caf::anon_send(raylet, wire::free_atom::value, wire::job_atom::value,
                 uint64_t{1});
  run();
  CHECK(procs.killed == std::vector<int32_t>{fake_processes::pid_of(1)});
  shut_down(exec, owner, raylet);
}

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet tells the worker processes of an ended job to end "
                  "and kills those still running after the grace period") {
  fake_processes procs;
  auto raylet = make_raylet({{"CPU", 2}}, [&](auto& factory) {
    procs.install(factory);
    factory.worker_exit_grace = std::chrono::milliseconds(0);
  });
  auto log = std::make_shared<lease_log>();
  auto owner = sys.spawn(lessee, raylet, log);
  caf::anon_send(owner, wire::lease_atom::value, wire::resource_set{{"CPU", 1}},
                 uint32_t{0}, uint64_t{7});
  run();
  REQUIRE(procs.starts.size() == 2);
  auto exec = wire::executor_actor{sys.spawn(test::fake_executor, exec_log)};
  register_all(raylet, procs, exec);
  run();
  REQUIRE(log->replies.size() == 1);
  caf::anon_send(raylet, wire::free_atom::value, wire::job_atom::value,
                 uint64_t{procs.starts[0].job});
  run();
  // Told, not killed: each reports its last task events as it exits.
  CHECK(exec_log->job_ended == 2);
  CHECK(procs.killed.empty());
  // One exits by itself; the other is killed once the grace period is over.
  procs.ended[fake_processes::pid_of(0)] = "exited with code 0";
  trigger_timeouts();
  run();
  CHECK(procs.killed == std::vector<int32_t>{fake_processes::pid_of(1)});
  shut_down(exec, owner, raylet);
}

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet with worker processes hosts each actor in a "
                  "process of its own and reports its end to the gcs") {
  fake_processes procs;
  auto raylet = make_raylet({{"CPU", 2}}, procs.installer());
  caf::anon_send(raylet, wire::load_atom::value, uint64_t{3},
                 std::vector<std::string>{"/x/job3.so"});
  wire::actor_spec spec;
  spec.id = {9, 1};
  spec.class_name = "counter";
  spec.resources = {{"CPU", 1}};
  spec.job = 3;
  spec.num_restarts = 2;
  caf::anon_send(raylet, wire::create_atom::value, spec);
  run();
  REQUIRE(procs.starts.size() == 1);
  CHECK(procs.starts[0].job == 3);
  CHECK(procs.starts[0].libraries == std::vector<std::string>{"/x/job3.so"});
  auto exec = wire::executor_actor{sys.spawn(test::fake_executor, exec_log)};
  caf::anon_send(raylet, wire::register_atom::value, procs.starts[0].token,
                 exec, fake_processes::pid_of(0), std::string{"h:1"});
  run();
  // The process hosts the actor; it takes no tasks.
  REQUIRE(exec_log->actors.size() == 1);
  CHECK(exec_log->actors[0].first.id == spec.id);
  // Its end goes to the gcs with the instance that ran there, and its CPU
  // comes back.
  procs.ended[fake_processes::pid_of(0)] = "exited with code 3";
  trigger_timeouts();
  REQUIRE(gcs_log->lost_instances.size() == 1);
  auto& [id, instance, why] = gcs_log->lost_instances[0];
  CHECK(id == spec.id);
  CHECK(instance == 2);
  CHECK(why.kind == wire::error_kind::actor_died);
  CHECK(why.message.find("exited with code 3") != std::string::npos);
  trigger_timeouts(); // the next resource report
  REQUIRE_FALSE(gcs_log->reports.empty());
  CHECK(gcs_log->reports.back().available.at("CPU") == doctest::Approx(2));
  shut_down(exec, raylet);
}

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet starts a job's first worker processes for all "
                  "its CPUs and asks idle ones to end") {
  fake_processes procs;
  auto raylet = make_raylet({{"CPU", 3}}, [&](auto& factory) {
    procs.install(factory);
    factory.worker_idle_timeout = std::chrono::milliseconds(0);
  });
  auto log = std::make_shared<lease_log>();
  auto owner = sys.spawn(lessee, raylet, log);
  caf::anon_send(owner, wire::lease_atom::value, wire::resource_set{{"CPU", 1}},
                 uint32_t{0}, uint64_t{7});
  run();
  // One request, three CPUs: three processes, ready for the next tasks.
  REQUIRE(procs.starts.size() == 3);
  auto exec = wire::executor_actor{sys.spawn(test::fake_executor, exec_log)};
  register_all(raylet, procs, exec);
  run();
  REQUIRE(log->replies.size() == 1);
  // Idle past the timeout (0 here), the two without a lease are asked to
  // end; one that declines stays.
  exec_log->agree_to_stop = false;
  trigger_timeouts();
  CHECK(exec_log->stop_requests == 2);
  CHECK(procs.killed.empty());
  shut_down(exec, owner, raylet);
}

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet passes a cancel on to its worker processes") {
  fake_processes procs;
  auto raylet = make_raylet({{"CPU", 1}}, procs.installer());
  auto log = std::make_shared<lease_log>();
  auto lessee_owner = sys.spawn(lessee, raylet, log);
  caf::anon_send(lessee_owner, wire::lease_atom::value,
                 wire::resource_set{{"CPU", 1}}, uint32_t{0}, uint64_t{7});
  run();
  REQUIRE(procs.starts.size() == 1);
  // The worker's owner registers it, and so hears of cancels.
  auto worker_log = std::make_shared<test::owner_log>();
  wire::owner_actor worker_owner = sys.spawn(test::fake_owner, worker_log);
  auto exec = wire::executor_actor{sys.spawn(test::fake_executor, exec_log)};
  caf::send_as(worker_owner, raylet, wire::register_atom::value,
               procs.starts[0].token, exec, fake_processes::pid_of(0),
               std::string{"h:1"});
  run();
  wire::task_id id{7, 3};
  caf::anon_send(raylet, wire::cancel_atom::value, id, true);
  run();
  REQUIRE(worker_log->cancels.size() == 1);
  CHECK(worker_log->cancels[0] == id);
  shut_down(exec, lessee_owner, worker_owner, raylet);
}

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet whose worker processes do not start fails the "
                  "job's requests, saying why") {
  fake_processes procs;
  auto raylet = make_raylet({{"CPU", 1}}, procs.installer());
  auto log = std::make_shared<lease_log>();
  auto owner = sys.spawn(lessee, raylet, log);
  wire::resource_set one{{"CPU", 1}};
  SUBCASE("the program cannot run") {
    procs.fail_start = true;
    caf::anon_send(owner, wire::lease_atom::value, one, uint32_t{0},
                   uint64_t{7});
    run();
    REQUIRE(log->errors.size() == 1);
    CHECK(wire::code_of(log->errors[0]) == wire::errc::unschedulable);
  }
  SUBCASE("it ends before it registers, again and again") {
    caf::anon_send(owner, wire::lease_atom::value, one, uint32_t{0},
                   uint64_t{7});
    run();
    for (size_t i = 0; i < node::raylet_state::max_start_failures; ++i) {
      REQUIRE(procs.starts.size() == i + 1);
      CHECK(log->errors.empty());
      procs.ended[fake_processes::pid_of(i)] = "exited with code 1";
      trigger_timeouts();
      run();
    }
    REQUIRE(log->errors.size() == 1);
    CHECK(wire::code_of(log->errors[0]) == wire::errc::unschedulable);
  }
  CHECK(log->replies.empty());
  shut_down(owner, raylet);
}

namespace {

wire::node_info view_row(wire::unique_id id, wire::resource_set total,
                         wire::resource_set available) {
  wire::node_info row;
  row.id = id;
  row.total = std::move(total);
  row.available = std::move(available);
  return row;
}

} // namespace

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet sends an owner on to a node that can run what it "
                  "never can") {
  auto raylet = make_raylet({{"CPU", 2}});
  auto log = std::make_shared<lease_log>();
  auto owner = sys.spawn(lessee, raylet, log);
  wire::resource_set tpu{{"tpu", 1}};
  std::vector<wire::node_info> view{view_row({2, 2}, tpu, {})};
  SUBCASE("the view has such a node, even one busy now") {
    caf::anon_send(raylet, wire::view_atom::value, view);
    caf::anon_send(owner, wire::lease_atom::value, tpu, uint32_t{0},
                   uint64_t{7});
    run();
  }
  SUBCASE("a node with it joins later: the view brings it") {
    caf::anon_send(owner, wire::lease_atom::value, tpu, uint32_t{0},
                   uint64_t{7});
    run();
    CHECK(log->replies.empty());
    caf::anon_send(raylet, wire::view_atom::value, view);
    run();
  }
  REQUIRE(log->replies.size() == 1);
  CHECK_FALSE(log->replies[0].executor);
  CHECK(log->replies[0].node == wire::unique_id{2, 2});
  CHECK(exec_log->batches.empty());
  shut_down(owner, raylet);
}

TEST_CASE_FIXTURE(raylet_fixture,
                  "a busy raylet sends waiting owners to nodes that get "
                  "room") {
  auto raylet = make_raylet({{"CPU", 1}});
  auto log = std::make_shared<lease_log>();
  auto owner = sys.spawn(lessee, raylet, log);
  wire::resource_set one{{"CPU", 1}};
  for (int i = 0; i < 3; ++i)
    caf::anon_send(owner, wire::lease_atom::value, one, uint32_t{0},
                   uint64_t{7});
  run();
  // One granted here; no other node known: the rest wait here.
  REQUIRE(log->replies.size() == 1);
  CHECK(log->replies[0].executor);
  // A node with one free CPU appears: one waiting owner goes there (the
  // view counts it as taken), the other keeps waiting here.
  caf::anon_send(raylet, wire::view_atom::value,
                 std::vector<wire::node_info>{
                   view_row({2, 2}, {{"CPU", 2}}, {{"CPU", 1}})});
  run();
  REQUIRE(log->replies.size() == 2);
  CHECK_FALSE(log->replies[1].executor);
  CHECK(log->replies[1].node == wire::unique_id{2, 2});
  // The next view says it has room again: the last one goes too.
  caf::anon_send(raylet, wire::view_atom::value,
                 std::vector<wire::node_info>{
                   view_row({2, 2}, {{"CPU", 2}}, {{"CPU", 1}})});
  run();
  REQUIRE(log->replies.size() == 3);
  CHECK(log->replies[2].node == wire::unique_id{2, 2});
  shut_down(owner, raylet);
}

namespace {

struct owner_fixture : test::deterministic_fixture {
  std::shared_ptr<test::raylet_log> raylet_log
    = std::make_shared<test::raylet_log>();
  std::shared_ptr<test::gcs_log> gcs_log = std::make_shared<test::gcs_log>();
  std::shared_ptr<test::executor_log> exec_log
    = std::make_shared<test::executor_log>();
  wire::raylet_actor raylet = sys.spawn(test::fake_raylet, raylet_log);
  wire::gcs_actor gcs = sys.spawn(test::fake_gcs, gcs_log);
  config owner_cfg;
  owner::core_worker core{sys, owner_cfg};
  owner::service_actor service = sys.spawn(owner::service, &core,
                                           std::string{});

  owner_fixture() {
    raylet_log->executor = sys.spawn(test::fake_executor, exec_log);
    auto store = node::make_store_memory(1 << 20, 1 << 20);
    core.connect({gcs, raylet, service, store, {}, nullptr, "", {1, 1}});
    run();
  }

  /// Every task sent to the leased executor so far, in order.
  std::vector<wire::task_spec> sent() const {
    std::vector<wire::task_spec> result;
    for (auto& b : exec_log->batches)
      for (auto& spec : b.first)
        result.push_back(spec);
    return result;
  }

  ~owner_fixture() {
    core.shutdown();
    for (auto hdl :
         {caf::actor_cast<caf::actor>(raylet), caf::actor_cast<caf::actor>(gcs),
          caf::actor_cast<caf::actor>(raylet_log->executor),
          caf::actor_cast<caf::actor>(service)})
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
    // The service calls into `core`: it must be gone before `core` is.
    run();
  }

  wire::object_id submit(std::vector<detail::call_arg> args = {}) {
    detail::task_options opts;
    auto id = core.submit_task("f", std::move(args), {}, opts);
    run();
    return id;
  }

  void answer(const wire::object_id& id, wire::error_info err = {}) {
    wire::task_result result;
    result.id = id;
    result.error = std::move(err);
    if (result.error.kind == wire::error_kind::none)
      result.value = wire::make_buffer("v", 1);
    // As an executor does: the last result of a batch frees its lease.
    for (auto& [batch, lease] : exec_log->batches)
      if (!batch.empty() && batch.back().id == id)
        result.lease_done = lease;
    caf::anon_send(wire::owner_actor{service}, wire::result_atom::value,
                   std::move(result));
    run();
  }

  static detail::call_arg ref_arg(const wire::object_id& id) {
    detail::call_arg arg;
    arg.is_ref = true;
    arg.ref = id;
    return arg;
  }
};

} // namespace

TEST_CASE_FIXTURE(owner_fixture,
                  "the owner sends a task once its argument is ready") {
  auto first = submit();
  REQUIRE(sent().size() == 1);
  auto second = submit({ref_arg(first)});
  // Waits for `first`: not sent, and it holds `first` as an argument.
  CHECK(sent().size() == 1);
  CHECK(core.refs_of(first)[owner::ref_kind::submitted] == 1);
  answer(first);
  REQUIRE(sent().size() == 2);
  auto sent = this->sent()[1];
  CHECK(sent.id == second);
  REQUIRE(sent.args.size() == 1);
  REQUIRE(sent.args[0].value);
  CHECK(sent.args[0].value->size() == 1);
  answer(second);
  // Done: the argument is no longer held by the task, only by its ref.
  CHECK(core.refs_of(first)[owner::ref_kind::submitted] == 0);
  CHECK(core.refs_of(first)[owner::ref_kind::local] == 1);
  CHECK(core.value_of(second)->size() == 1);
  CHECK(core.sizes().tasks == 0);
}

TEST_CASE_FIXTURE(owner_fixture,
                  "the owner describes its objects, largest first: state, "
                  "size, maker and holders") {
  auto put = core.put(wire::make_buffer("abc", 3), false, {});
  auto first = submit();
  auto second = submit({ref_arg(first)});
  answer(first, {wire::error_kind::task_failed, "std::runtime_error", "boom"});
  uint64_t total = 0;
  auto listed = core.objects(2, total);
  CHECK(total == 3);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].id == put);
  CHECK(listed[0].put);
  CHECK(listed[0].size == 3);
  CHECK(listed[0].state == wire::object_state::ready);
  CHECK(listed[0].local_refs == 1);
  // Ties go by id: the failed task's object, then the pending one.
  CHECK(listed[1].id == first);
  CHECK(!listed[1].put);
  CHECK(listed[1].function == "f");
  CHECK(listed[1].state == wire::object_state::failed);
  CHECK(listed[1].error == "boom");
  // `second` failed along with its argument; its object is described too.
  auto rest = core.object(second);
  REQUIRE(rest.has_value());
  CHECK(rest->function == "f");
  CHECK(rest->state == wire::object_state::failed);
  CHECK(!core.object({99, 1}).has_value());
  // The same through the owner actor, as the gcs asks.
  auto got = std::make_shared<std::vector<wire::object_info>>();
  auto count = std::make_shared<uint64_t>(0);
  sys.spawn([=](caf::event_based_actor* self) {
    self
      ->request(wire::owner_actor{service}, caf::infinite,
                wire::objects_atom::value, uint32_t{10})
      .then([=](std::vector<wire::object_info>& xs, uint64_t n) {
        *got = std::move(xs);
        *count = n;
      });
  });
  run();
  CHECK(*count == 3);
  CHECK(got->size() == 3);
}

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet reports its store's use when it changes, with "
                  "no scheduling") {
  auto used = std::make_shared<uint64_t>(0);
  auto raylet = make_raylet({{"CPU", 1}}, [used](node::worker_factory& f) {
    f.store_used = [used] { return *used; };
  });
  trigger_timeouts();
  trigger_timeouts();
  CHECK(gcs_log->reports.empty());
  *used = 4096;
  // One look sees the change, a report follows.
  trigger_timeouts();
  trigger_timeouts();
  REQUIRE(gcs_log->reports.size() == 1);
  CHECK(gcs_log->reports[0].object_store_used == 4096);
  trigger_timeouts();
  trigger_timeouts();
  CHECK(gcs_log->reports.size() == 1);
  shut_down(raylet);
}

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet serves the metrics of each process, the latest "
                  "only, until the process is gone") {
  auto raylet = make_raylet({{"CPU", 1}});
  auto sample = [](double value) {
    wire::metric_sample x;
    x.name = "app_items_total";
    x.kind = wire::metric_kind::counter;
    x.value = value;
    return std::vector<wire::metric_sample>{x};
  };
  // Two processes; the first sends twice.
  auto first = sys.spawn([=](caf::event_based_actor* self) {
    self->send(raylet, wire::metrics_atom::value, int32_t{10}, sample(1));
    self->send(raylet, wire::metrics_atom::value, int32_t{10}, sample(5));
    return caf::behavior{[](int) {}};
  });
  // (Held here: an actor nobody refers to is gone.)
  auto second = sys.spawn([=](caf::event_based_actor* self) {
    self->send(raylet, wire::metrics_atom::value, int32_t{11}, sample(2));
    return caf::behavior{[](int) {}};
  });
  run();
  auto served = std::make_shared<std::vector<wire::metric_sample>>();
  auto ask = [&] {
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(raylet, caf::infinite, wire::metrics_atom::value)
        .then([=](std::vector<wire::metric_sample>& xs) { *served = xs; });
    });
    run();
  };
  ask();
  REQUIRE(served->size() == 2);
  std::map<std::string, double> by_pid;
  for (auto& x : *served) {
    REQUIRE(x.labels.size() == 1);
    CHECK(x.labels[0].first == "pid");
    by_pid[x.labels[0].second] = x.value;
  }
  CHECK(by_pid == std::map<std::string, double>{{"10", 5}, {"11", 2}});
  caf::anon_send_exit(first, caf::exit_reason::kill);
  run();
  ask();
  REQUIRE(served->size() == 1);
  CHECK(served->at(0).labels[0].second == "11");
  shut_down(raylet, second);
}

TEST_CASE_FIXTURE(owner_fixture,
                  "a failed argument fails its dependents without sending "
                  "them") {
  auto first = submit();
  auto last = first;
  for (int i = 0; i < 1000; ++i)
    last = submit({ref_arg(last)});
  CHECK(sent().size() == 1);
  answer(first, {wire::error_kind::task_failed, "std::runtime_error", "boom"});
  CHECK(sent().size() == 1);
  CHECK_THROWS_AS(core.value_of(last), task_error);
  CHECK(core.sizes().tasks == 0);
  CHECK(core.sizes().waiting == 0);
}

TEST_CASE_FIXTURE(owner_fixture,
                  "a result for a task the owner forgot changes nothing") {
  auto id = submit();
  answer(id);
  answer(id);     // a duplicate
  answer({9, 9}); // never submitted
  CHECK(core.value_of(id)->size() == 1);
  core.remove_ref(id);
  CHECK(core.sizes().objects == 0);
  CHECK(core.sizes().refs == 0);
}

namespace {

// Runs every task at once, successfully, and hands results on as an
// executor's runner for another process does.
struct echo_runner : node::task_runner {
  wire::task_result run_task(const wire::task_spec& spec,
                             const node::worker_context&) override {
    wire::task_result result;
    result.id = spec.id;
    result.value = wire::make_buffer("v", 1);
    return result;
  }

  std::shared_ptr<void> construct(const wire::actor_spec&,
                                  const node::worker_context&,
                                  wire::error_info&) override {
    return nullptr;
  }

  wire::task_result run_method(void*, const wire::actor_spec&,
                               const wire::task_spec& spec,
                               const node::worker_context&) override {
    wire::task_result result;
    result.id = spec.id;
    return result;
  }
};

} // namespace

TEST_CASE_FIXTURE(test::deterministic_fixture,
                  "an executor frees its lease with the last result of a "
                  "batch") {
  auto owner_log = std::make_shared<test::owner_log>();
  wire::owner_actor owner = sys.spawn(test::fake_owner, owner_log);
  auto raylet = sys.spawn(test::fake_raylet,
                          std::make_shared<test::raylet_log>());
  auto exec = sys.spawn(node::executor, wire::raylet_actor{raylet},
                        std::make_shared<echo_runner>(), node::worker_hooks{});
  std::vector<wire::task_spec> batch;
  for (uint64_t i = 1; i <= 3; ++i) {
    auto spec = cpu_task(i);
    spec.owner = owner;
    batch.push_back(spec);
  }
  caf::anon_send(exec, wire::execute_atom::value, batch, uint64_t{42});
  run();
  auto results = owner_log->get();
  REQUIRE(results.size() == 3);
  CHECK(results[0].lease_done == 0);
  CHECK(results[1].lease_done == 0);
  CHECK(results[2].lease_done == 42);
  // No separate message: the result said it.
  CHECK(owner_log->done.empty());
  for (auto hdl : {caf::actor_cast<caf::actor>(exec),
                   caf::actor_cast<caf::actor>(raylet),
                   caf::actor_cast<caf::actor>(owner)})
    caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
}
