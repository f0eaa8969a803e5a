// The owner's smaller parts: object directory, task manager, dependency
// resolver and actor submit queue.

#include <doctest/doctest.h>

#include "owner/actor_submit_queue.hpp"
#include "owner/dependency_resolver.hpp"
#include "owner/object_directory.hpp"
#include "owner/task_manager.hpp"

using namespace caraway;
using namespace caraway::owner;

namespace {

pending_task make_task(wire::task_id id, int32_t max_retries = 0,
                       bool retry_exceptions = false) {
  pending_task task;
  task.spec.id = id;
  task.spec.function = "f";
  task.spec.max_retries = max_retries;
  task.spec.retry_exceptions = retry_exceptions;
  task.sent = true;
  return task;
}

wire::task_result failed_result(wire::task_id id, wire::error_kind kind) {
  wire::task_result result;
  result.id = id;
  result.error = {kind, "std::runtime_error", "boom"};
  return result;
}

} // namespace

TEST_CASE("object_directory names the node holding most argument bytes") {
  object_directory dir;
  const wire::unique_id here{1, 1};
  const wire::unique_id a{2, 2};
  const wire::unique_id b{3, 3};
  dir.set_primary({9, 1}, "a:1", {}, a, 100);
  dir.set_primary({9, 2}, "a:1", {}, a, 100);
  dir.set_primary({9, 3}, "b:1", {}, b, 150);
  dir.set_primary({9, 4}, "h:1", {}, here, 50);
  dir.set_primary({9, 5}, "?:1", {}, {}, 1000); // node unknown: not counted
  std::vector<wire::object_id> all{{9, 1}, {9, 2}, {9, 3}, {9, 5}};
  CHECK(dir.heaviest(all, here, 0) == a);
  CHECK(dir.heaviest({{9, 3}, {9, 1}}, here, 0) == b);
  // Bytes in this process' store count for the local node, which needs no
  // preference.
  CHECK(dir.heaviest(all, here, 500).nil());
  CHECK(dir.heaviest({{9, 4}, {9, 3}}, here, 101).nil());
  CHECK(dir.heaviest({{9, 4}, {9, 3}}, here, 99) == b);
  CHECK(dir.heaviest({{9, 5}, {9, 6}}, here, 0).nil());
}

TEST_CASE("object_directory remembers the primary and copies until taken") {
  object_directory dir;
  wire::object_id id{1, 1};
  CHECK(dir.find(id) == nullptr);
  dir.set_primary(id, "127.0.0.1:7", wire::object_store_actor{});
  dir.add_copy(id, wire::object_store_actor{});
  dir.add_copy(id, wire::object_store_actor{});
  REQUIRE(dir.find(id) != nullptr);
  CHECK(dir.find(id)->address == "127.0.0.1:7");
  auto loc = dir.take(id);
  CHECK(loc.copies.size() == 2);
  CHECK(dir.find(id) == nullptr);
  CHECK(dir.take(id).address.empty());
}

TEST_CASE("task_manager retries application errors only when asked") {
  task_manager tm;
  wire::task_id id{1, 1};
  std::optional<pending_task> done;
  SUBCASE("retry_exceptions with attempts left: run again") {
    tm.add(make_task(id, /*max_retries=*/2, /*retry_exceptions=*/true));
    auto err = failed_result(id, wire::error_kind::task_failed);
    CHECK(tm.on_result(err, done) == task_manager::verdict::retry);
    CHECK_FALSE(tm.find(id)->sent);
    CHECK(tm.find(id)->attempts == 1);
    err.attempt = 1;
    CHECK(tm.on_result(err, done) == task_manager::verdict::retry);
    err.attempt = 2;
    CHECK(tm.on_result(err, done) == task_manager::verdict::done);
    REQUIRE(done);
    CHECK(done->attempts == 2);
  }
  SUBCASE("without retry_exceptions an application error is final") {
    tm.add(make_task(id, /*max_retries=*/2));
    auto err = failed_result(id, wire::error_kind::task_failed);
    CHECK(tm.on_result(err, done) == task_manager::verdict::done);
  }
  SUBCASE("a success ends the task") {
    tm.add(make_task(id, 3, true));
    wire::task_result ok;
    ok.id = id;
    CHECK(tm.on_result(ok, done) == task_manager::verdict::done);
  }
  CHECK(tm.find(id) == nullptr);
  CHECK(tm.on_result(failed_result(id, wire::error_kind::task_failed), done)
        == task_manager::verdict::unknown);
}

TEST_CASE("task_manager keeps a spec that a retry may need") {
  task_manager tm;
  auto once = make_task({1, 1});
  once.spec.args.resize(1);
  auto sent = tm.spec_to_send(once);
  CHECK(sent.args.size() == 1);
  CHECK(once.spec.args.empty()); // moved: no retry can need it
  auto exceptions = make_task({1, 2}, /*max_retries=*/1, true);
  exceptions.spec.args.resize(1);
  tm.spec_to_send(exceptions);
  CHECK(exceptions.spec.args.size() == 1);
  SUBCASE("no node dies alone: only retried exceptions need the spec") {
    auto lost = make_task({1, 3}, /*max_retries=*/3);
    lost.spec.args.resize(1);
    tm.spec_to_send(lost);
    CHECK(lost.spec.args.empty());
  }
  SUBCASE("in a cluster every task with retries keeps it") {
    tm.keep_specs(true);
    auto lost = make_task({1, 3}, /*max_retries=*/3);
    lost.spec.args.resize(1);
    lost.attempts = 2;
    auto copy = tm.spec_to_send(lost);
    CHECK(lost.spec.args.size() == 1);
    CHECK(copy.attempt == 2); // the attempt travels with the spec
  }
}

TEST_CASE("task_manager runs a task lost with its node again, within bounds") {
  task_manager tm;
  wire::unique_id dead{7, 7};
  wire::unique_id alive{8, 8};
  auto on = [](pending_task task, const wire::unique_id& node) {
    task.node = node;
    return task;
  };
  tm.add(on(make_task({1, 1}, /*max_retries=*/1), dead));
  tm.add(on(make_task({1, 2}, /*max_retries=*/1), alive));
  auto unsent = on(make_task({1, 3}, 1), dead);
  unsent.sent = false;
  tm.add(unsent);
  auto call = on(make_task({1, 4}, 1), dead);
  call.spec.actor = {2, 2};
  tm.add(call);
  // Only sent stateless tasks on that node: calls fail with their actor.
  CHECK(tm.on_node(dead) == std::vector<wire::task_id>{{1, 1}});
  auto& task = *tm.find({1, 1});
  REQUIRE(task_manager::retry_lost(task));
  CHECK(task.attempts == 1);
  CHECK_FALSE(task.sent);
  CHECK(task.node.nil());
  task.sent = true;
  CHECK_FALSE(task_manager::retry_lost(task)); // max_retries 1: out
  auto forever = make_task({1, 5}, /*max_retries=*/-1);
  for (int i = 0; i < 100; ++i)
    REQUIRE(task_manager::retry_lost(forever));
  // A result of the attempt given up on is stale; the new one counts.
  std::optional<pending_task> done;
  wire::task_result old;
  old.id = {1, 1};
  CHECK(tm.on_result(old, done) == task_manager::verdict::stale);
  CHECK(tm.find({1, 1}) != nullptr);
  old.attempt = 1;
  CHECK(tm.on_result(old, done) == task_manager::verdict::done);
}

TEST_CASE("task_manager keeps lineage within its byte budget, oldest out") {
  task_manager tm;
  tm.keep_specs(true);
  auto with_arg = [](wire::task_id id, size_t bytes) {
    auto task = make_task(id, 3);
    task.spec.args.resize(1);
    task.spec.args[0].value = std::make_shared<wire::buffer>(bytes);
    task.holds = {{9, id.lo}};
    return task;
  };
  CHECK(tm.can_rerun(with_arg({1, 1}, 1)));
  CHECK_FALSE(tm.can_rerun(make_task({1, 2}, 0))); // no retries
  auto call = make_task({1, 3}, 3);
  call.spec.actor = {2, 2};
  CHECK_FALSE(tm.can_rerun(call)); // calls do not run again by lineage
  // Two specs with 10 kB of arguments each fit, a third does not.
  tm.lineage_budget(25000);
  std::vector<pending_task> dropped;
  tm.keep_lineage(with_arg({1, 1}, 10000), dropped);
  tm.keep_lineage(with_arg({1, 2}, 10000), dropped);
  CHECK(dropped.empty());
  CHECK(tm.lineage_size() == 2);
  tm.keep_lineage(with_arg({1, 3}, 10000), dropped);
  // Past the budget: the oldest goes, with its holds for the caller.
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].spec.id == wire::task_id{1, 1});
  CHECK(dropped[0].holds == std::vector<wire::object_id>{{9, 1}});
  CHECK_FALSE(tm.take_lineage({1, 1}));
  auto kept = tm.take_lineage({1, 2});
  REQUIRE(kept);
  CHECK(kept->spec.args.size() == 1);
  CHECK(tm.lineage_size() == 1);
  CHECK_FALSE(tm.take_lineage({1, 2}));
  CHECK(tm.lineage_bytes() > 10000);
  REQUIRE(tm.take_lineage({1, 3}));
  CHECK(tm.lineage_bytes() == 0);
}

TEST_CASE("dependency_resolver hands out what waits for an object once") {
  dependency_resolver deps;
  wire::object_id obj{1, 1};
  deps.add_task(obj, {1, 2});
  deps.add_task(obj, {1, 3});
  deps.add_actor(obj, {1, 4});
  CHECK(deps.waited_for(obj));
  auto w = deps.take(obj);
  CHECK(w.tasks == std::vector<wire::task_id>{{1, 2}, {1, 3}});
  CHECK(w.actors == std::vector<wire::actor_id>{{1, 4}});
  CHECK_FALSE(deps.waited_for(obj));
  CHECK(deps.take(obj).tasks.empty());
}

TEST_CASE("actor_submit_queue queues calls in order until the actor dies") {
  actor_submit_queue q;
  wire::actor_id actor{1, 1};
  wire::error_info why;
  CHECK_FALSE(q.enqueue(actor, {1, 2}, why)); // unknown actor
  CHECK(why.kind == wire::error_kind::actor_died);
  q.get(actor).class_name = "counter";
  q.get(actor).holds = {{1, 9}};
  CHECK(q.enqueue(actor, {1, 2}, why));
  CHECK(q.enqueue(actor, {1, 3}, why));
  auto& entry = *q.find(actor);
  CHECK(entry.queue.front() == wire::task_id{1, 2});
  // The head call goes out.
  entry.in_flight.insert(entry.queue.front());
  entry.queue.pop_front();
  std::vector<wire::object_id> holds;
  auto victims = q.kill(actor, {wire::error_kind::actor_died, "", "killed"},
                        holds);
  CHECK(victims.size() == 2); // one queued, one in flight
  CHECK(holds == std::vector<wire::object_id>{{1, 9}});
  CHECK_FALSE(q.enqueue(actor, {1, 4}, why));
  CHECK(why.message == "killed");
  SUBCASE("death is final") {
    wire::actor_info alive;
    alive.id = actor;
    alive.state = wire::actor_state::alive;
    CHECK_FALSE(q.update(alive, true));
    CHECK(q.find(actor)->state == wire::actor_state::dead);
  }
}
