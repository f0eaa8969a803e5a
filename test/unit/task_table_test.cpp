// The gcs' task table: owners' changes merged per task, bounded.

#include <doctest/doctest.h>

#include "caraway/node/task_table.hpp"

using namespace caraway;

namespace {

wire::task_info change(uint64_t seq, wire::task_state state) {
  wire::task_info x;
  x.id = {1, seq};
  x.state = state;
  return x;
}

} // namespace

TEST_CASE("task_table merges what owners report of a task") {
  node::task_table t{10};
  auto submitted = change(1, wire::task_state::pending);
  submitted.function = "fib";
  submitted.submitted_ns = 5;
  auto scheduled = change(1, wire::task_state::scheduled);
  scheduled.node = {9, 9};
  scheduled.scheduled_ns = 6;
  scheduled.attempts = 1;
  t.apply({submitted, scheduled});
  auto failed = change(1, wire::task_state::failed);
  failed.error = "boom";
  failed.ended_ns = 7;
  t.apply({failed});
  auto rows = t.list();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].function == "fib");
  CHECK(rows[0].state == wire::task_state::failed);
  CHECK(rows[0].node == wire::unique_id{9, 9});
  CHECK(rows[0].error == "boom");
  CHECK(rows[0].submitted_ns == 5);
  CHECK(rows[0].scheduled_ns == 6);
  CHECK(rows[0].ended_ns == 7);
  CHECK(rows[0].attempts == 1);
  // Sent again (a retry after its node died): scheduled, attempt 2.
  auto again = change(1, wire::task_state::scheduled);
  again.node = {8, 8};
  again.attempts = 2;
  t.apply({again});
  rows = t.list();
  CHECK(rows[0].state == wire::task_state::scheduled);
  CHECK(rows[0].node == wire::unique_id{8, 8});
  CHECK(rows[0].attempts == 2);
  CHECK(rows[0].function == "fib");
}

TEST_CASE("task_table keeps the latest tasks up to its size") {
  node::task_table t{3};
  for (uint64_t i = 1; i <= 5; ++i)
    t.apply({change(i, wire::task_state::pending)});
  CHECK(t.size() == 3);
  CHECK(t.evicted() == 2);
  auto rows = t.list();
  CHECK(rows.front().id == wire::task_id{1, 3});
  CHECK(rows.back().id == wire::task_id{1, 5});
  // A change to a task it dropped brings it back as a new row.
  t.apply({change(1, wire::task_state::finished)});
  CHECK(t.list().back().id == wire::task_id{1, 1});
  node::task_table none{0};
  none.apply({change(1, wire::task_state::pending)});
  CHECK(none.size() == 0);
}

TEST_CASE("task_table takes a worker's report that a task runs, but never "
          "over its end") {
  node::task_table t{10};
  auto scheduled = change(1, wire::task_state::scheduled);
  scheduled.attempts = 1;
  auto running = change(1, wire::task_state::running);
  running.attempts = 1;
  running.started_ns = 11;
  running.pid = 42;
  running.node = {3, 3};
  t.apply({scheduled});
  t.apply({running});
  CHECK(t.list()[0].state == wire::task_state::running);
  CHECK(t.list()[0].pid == 42);
  // The owner's next report of the same attempt says "scheduled" still.
  t.apply({scheduled});
  CHECK(t.list()[0].state == wire::task_state::running);
  auto finished = change(1, wire::task_state::finished);
  finished.attempts = 1;
  finished.ended_ns = 20;
  finished.ran_until_ns = 19;
  t.apply({finished});
  // A late report from the worker changes nothing.
  t.apply({running});
  auto row = t.list()[0];
  CHECK(row.state == wire::task_state::finished);
  CHECK(row.ended_ns == 20);
  CHECK(row.started_ns == 11);
  CHECK(row.ran_until_ns == 19);
  // A retry is a new attempt: its state holds; an old attempt's run not.
  auto retried = change(1, wire::task_state::scheduled);
  retried.attempts = 2;
  t.apply({retried});
  CHECK(t.list()[0].state == wire::task_state::scheduled);
  CHECK(t.list()[0].ended_ns == 0);
  t.apply({running});
  CHECK(t.list()[0].state == wire::task_state::scheduled);
}
