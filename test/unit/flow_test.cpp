// Message flows between components, played out on CAF's deterministic
// scheduler with fakes standing in for the other side.

#include <doctest/doctest.h>

#include "caraway/error.hpp"
#include "caraway/node/raylet.hpp"
#include "caraway/node/store_memory.hpp"
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

  wire::raylet_actor make_raylet(wire::resource_set total) {
    wire::node_info info;
    info.id = {1, 1};
    info.total = std::move(total);
    node::worker_factory factory;
    factory.spawn_executor = [this](wire::raylet_actor) {
      return wire::executor_actor{sys.spawn(test::fake_executor, exec_log)};
    };
    wire::raylet_actor result = sys.spawn(node::raylet, info, uint32_t{4},
                                          std::move(factory), gcs);
    run();
    return result;
  }

  ~raylet_fixture() {
    caf::anon_send_exit(gcs, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet runs what fits and batches the rest per lease") {
  auto raylet = make_raylet({{"CPU", 2}});
  for (uint64_t i = 1; i <= 40; ++i)
    caf::anon_send(raylet, wire::submit_atom::value, cpu_task(i));
  run();
  // Two CPUs: two leases of one task each while the queue was short.
  REQUIRE(exec_log->batches.size() == 2);
  CHECK(exec_log->batches[0].first.size() == 1);
  CHECK(exec_log->batches[1].first.size() == 1);
  // A finished lease frees its CPU for a batch out of the long queue:
  // 38 queued over 2 slots, half of it per round.
  caf::anon_send(raylet, wire::done_atom::value, exec_log->batches[0].second);
  run();
  REQUIRE(exec_log->batches.size() == 3);
  CHECK(exec_log->batches[2].first.size() == 9);
  // Its report to the gcs comes with the next timer, not per message.
  CHECK(gcs_log->reports.empty());
  trigger_timeouts();
  REQUIRE_FALSE(gcs_log->reports.empty());
  CHECK(gcs_log->reports.back().pending_tasks == 29);
  CHECK(gcs_log->reports.back().available.at("CPU") == doctest::Approx(0));
  caf::anon_send_exit(raylet, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(raylet_fixture,
                  "a raylet sends a task it can never run to the named node") {
  auto raylet = make_raylet({{"CPU", 2}});
  auto other_log = std::make_shared<test::raylet_log>();
  auto other = sys.spawn(test::fake_raylet, other_log);
  auto spec = cpu_task(1);
  spec.resources = {{"tpu", 1}};
  SUBCASE("a node has it") {
    gcs_log->place_on = other;
    caf::anon_send(raylet, wire::submit_atom::value, spec);
    run();
  }
  SUBCASE("a node with it joins later: the raylet asks again") {
    caf::anon_send(raylet, wire::submit_atom::value, spec);
    run();
    CHECK(other_log->submitted.empty());
    gcs_log->place_on = other;
    trigger_timeouts();
  }
  REQUIRE(other_log->submitted.size() == 1);
  CHECK(other_log->submitted[0].id == spec.id);
  REQUIRE_FALSE(gcs_log->place_requests.empty());
  CHECK(gcs_log->place_requests.back().first == spec.resources);
  CHECK_FALSE(gcs_log->place_requests.back().second); // in total, not free now
  CHECK(exec_log->batches.empty());
  caf::anon_send_exit(raylet, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
}

namespace {

struct owner_fixture : test::deterministic_fixture {
  std::shared_ptr<test::raylet_log> raylet_log
    = std::make_shared<test::raylet_log>();
  std::shared_ptr<test::gcs_log> gcs_log = std::make_shared<test::gcs_log>();
  wire::raylet_actor raylet = sys.spawn(test::fake_raylet, raylet_log);
  wire::gcs_actor gcs = sys.spawn(test::fake_gcs, gcs_log);
  config owner_cfg;
  owner::core_worker core{sys, owner_cfg};
  owner::service_actor service = sys.spawn(owner::service, &core,
                                           std::string{});

  owner_fixture() {
    auto store = std::make_shared<node::store_memory>(1 << 20, 1 << 20);
    core.connect({gcs, raylet, service, store, {}, nullptr, "", {}});
    run();
  }

  ~owner_fixture() {
    core.shutdown();
    for (auto hdl :
         {caf::actor_cast<caf::actor>(raylet), caf::actor_cast<caf::actor>(gcs),
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
  REQUIRE(raylet_log->submitted.size() == 1);
  auto second = submit({ref_arg(first)});
  // Waits for `first`: not sent, and it holds `first` as an argument.
  CHECK(raylet_log->submitted.size() == 1);
  CHECK(core.refs_of(first)[owner::ref_kind::submitted] == 1);
  answer(first);
  REQUIRE(raylet_log->submitted.size() == 2);
  auto& sent = raylet_log->submitted[1];
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
                  "a failed argument fails its dependents without sending "
                  "them") {
  auto first = submit();
  auto last = first;
  for (int i = 0; i < 1000; ++i)
    last = submit({ref_arg(last)});
  CHECK(raylet_log->submitted.size() == 1);
  answer(first, {wire::error_kind::task_failed, "std::runtime_error", "boom"});
  CHECK(raylet_log->submitted.size() == 1);
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
