// What the caraway tool prints: tables with headers, JSON, filters, limits.

#include <doctest/doctest.h>

#include "views.hpp"

using namespace caraway;

namespace {

std::vector<wire::actor_info> three_actors() {
  std::vector<wire::actor_info> result(3);
  result[0].id = {1, 1};
  result[0].class_name = "counter";
  result[0].name = "fib";
  result[0].ns = "shared";
  result[0].state = wire::actor_state::alive;
  result[0].node = {0xabcdef0123456789, 1};
  result[0].job = 4;
  result[0].pid = 4321;
  result[1].id = {1, 2};
  result[1].class_name = "counter";
  result[1].state = wire::actor_state::dead;
  result[1].death.message = "the actor was killed";
  result[1].num_restarts = 2;
  result[2].id = {2, 3};
  result[2].class_name = "tally";
  result[2].state = wire::actor_state::pending;
  return result;
}

} // namespace

TEST_CASE("cli tables have headers and aligned columns") {
  auto text = views::render_table(views::actors_view(three_actors()));
  auto first = text.substr(0, text.find('\n'));
  CHECK(first.rfind("ID", 0) == 0);
  CHECK(first.find("STATE") == 34); // 32 digits and two spaces
  CHECK(text.find(wire::to_string({1, 1}) + "  alive    ")
        != std::string::npos);
  CHECK(text.find("  shared/fib  abcdef01  4    4321  ") != std::string::npos);
  CHECK(text.find("the actor was killed") != std::string::npos);
  // An empty field shows as "-"; no line ends in blanks.
  CHECK(text.find(" \n") == std::string::npos);
  CHECK(views::render_table(views::actors_view({})) == "no actors\n");
}

TEST_CASE("cli filters keep matching rows and refuse unknown fields") {
  auto v = views::actors_view(three_actors());
  std::string why;
  REQUIRE(views::apply_filters(v, {"class=COUNTER", "state=dead"}, why));
  REQUIRE(v.rows.size() == 1);
  CHECK(v.rows[0]["id"] == wire::to_string({1, 2}));
  v = views::actors_view(three_actors());
  REQUIRE(views::apply_filters(v, {"name=fib"}, why));
  CHECK(v.rows.size() == 1);
  v = views::actors_view(three_actors());
  REQUIRE(views::apply_filters(v, {"restarts=2"}, why));
  CHECK(v.rows.size() == 1);
  CHECK_FALSE(views::apply_filters(v, {"colour=red"}, why));
  CHECK(why.find("no field 'colour'") != std::string::npos);
  CHECK_FALSE(views::apply_filters(v, {"state"}, why));
  CHECK(why.find("key=value") != std::string::npos);
}

TEST_CASE("cli limits rows and says how many there were") {
  auto v = views::actors_view(three_actors());
  CHECK(views::apply_limit(v, 2) == 3);
  CHECK(v.rows.size() == 2);
  CHECK(views::apply_limit(v, 5) == 2);
}

TEST_CASE("cli JSON keeps every field, resources as objects") {
  wire::node_info node;
  node.id = {7, 7};
  node.address = "127.0.0.1:6380";
  node.total = {{"CPU", 2}, {"CPU_group_abc", 1}};
  node.available = {{"CPU", 1.5}};
  node.pending_tasks = 3;
  auto rows
    = nlohmann::json::parse(views::render_json(views::nodes_view({node})));
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["address"] == "127.0.0.1:6380");
  CHECK(rows[0]["state"] == "alive");
  CHECK(rows[0]["total"] == nlohmann::json{{"CPU", 2.0}}); // bundles hidden
  CHECK(rows[0]["available"]["CPU"] == 1.5);
  CHECK(rows[0]["pending_tasks"] == 3);
  auto status = views::status_json({node});
  CHECK(status["alive_nodes"] == 1);
  CHECK(status["used"]["CPU"] == 0.5);
}

TEST_CASE("cli finds one row by an id prefix") {
  auto v = views::actors_view(three_actors());
  std::string why;
  auto id = wire::to_string({2, 3});
  auto row = views::find_row(v, id.substr(0, 16) + "0000", why);
  REQUIRE(row != nullptr);
  CHECK((*row)["class"] == "tally");
  CHECK(views::find_row(v, "0000000000000001", why) == nullptr);
  CHECK(why.find("more than one") != std::string::npos);
  CHECK(views::find_row(v, "ffffffff", why) == nullptr);
  CHECK(why.find("no id starts with") != std::string::npos);
  CHECK(views::find_row(v, "abc", why) == nullptr);
  CHECK(why.find("at least 8") != std::string::npos);
  auto fields = views::render_fields(*row);
  CHECK(fields.find("class: tally\n") != std::string::npos);
}

TEST_CASE("cli lists placement groups with the node of each bundle") {
  wire::placement_group_info g;
  g.id = {5, 5};
  g.name = "pg";
  g.strategy = wire::placement_strategy::strict_spread;
  g.bundles = {{{"CPU", 1}}, {{"GPU", 1}}};
  g.nodes = {{0xabcdef12, 1}, {}};
  g.state = wire::placement_group_state::rescheduling;
  g.why = "node x with a bundle died";
  auto text = views::render_table(views::groups_view({g}));
  INFO(text);
  CHECK(text.find("RESCHEDULING  STRICT_SPREAD  {CPU:1}@00000000 {GPU:1}  /pg")
        != std::string::npos);
  CHECK(text.find("  node x with a bundle died\n") != std::string::npos);
}

TEST_CASE("cli lists tasks and counts them by function and state") {
  std::vector<wire::task_info> tasks(3);
  tasks[0].id = {1, 1};
  tasks[0].function = "fib";
  tasks[0].state = wire::task_state::finished;
  tasks[0].node = {9, 9};
  tasks[0].attempts = 1;
  tasks[0].submitted_ns = 1'000'000;
  tasks[0].scheduled_ns = 2'000'000;
  tasks[0].ended_ns = 4'500'000;
  tasks[1].id = {1, 2};
  tasks[1].function = "fib";
  tasks[1].state = wire::task_state::failed;
  tasks[1].error = "boom";
  tasks[2].id = {1, 3};
  tasks[2].function = "sum";
  auto v = views::tasks_view(tasks);
  CHECK(v.rows[0]["run_ms"] == 2.5);
  CHECK(v.rows[0]["wait_ms"] == 1.0);
  CHECK(v.rows[2]["run_ms"].is_null());
  std::string why;
  REQUIRE(views::apply_filters(v, {"state=failed"}, why));
  REQUIRE(v.rows.size() == 1);
  CHECK(v.rows[0]["error"] == "boom");
  auto text = views::render_table(views::task_summary(tasks));
  CHECK(text
        == "FUNCTION  PENDING  SCHEDULED  RUNNING  FINISHED  FAILED  TOTAL\n"
           "fib       0        0          0        1         1       2\n"
           "sum       1        0          0        0         0       1\n");
}

TEST_CASE("cli counts actors by class and state") {
  auto actors = three_actors();
  CHECK(views::render_table(views::actor_summary(actors))
        == "CLASS    PENDING  ALIVE  RESTARTING  DEAD  TOTAL\n"
           "counter  0        1      0           1     2\n"
           "tally    1        0      0           0     1\n");
  auto v = views::actor_summary(actors);
  REQUIRE(v.rows.size() == 2);
  CHECK(v.rows[0]["class"] == "counter");
  CHECK(v.rows[0]["ALIVE"] == 1);
  CHECK(v.rows[0]["DEAD"] == 1);
  CHECK(v.rows[0]["total"] == 2);
  CHECK(views::render_table(views::actor_summary({})) == "no actors\n");
}

TEST_CASE("cli shows where a task ran and for how long") {
  std::vector<wire::task_info> tasks(1);
  tasks[0].state = wire::task_state::finished;
  tasks[0].scheduled_ns = 2'000'000;
  tasks[0].ended_ns = 9'000'000;
  tasks[0].started_ns = 3'000'000;
  tasks[0].ran_until_ns = 4'250'000;
  tasks[0].pid = 77;
  auto v = views::tasks_view(tasks);
  // The run itself, not the round trip the owner saw.
  CHECK(v.rows[0]["run_ms"] == 1.25);
  CHECK(v.rows[0]["pid"] == 77);
}

TEST_CASE("cli writes a timeline of the tasks that ran, a row per worker") {
  std::vector<wire::task_info> tasks(5);
  // Two on node A in worker 10, one failed; one on node B in worker 20.
  for (auto& t : tasks) {
    t.function = "fib";
    t.state = wire::task_state::finished;
    t.node = {5, 5};
    t.pid = 10;
  }
  tasks[0].id = {1, 1};
  tasks[0].started_ns = 2'000'000;
  tasks[0].ran_until_ns = 2'500'000;
  tasks[1].id = {1, 2};
  tasks[1].state = wire::task_state::failed;
  tasks[1].error = "boom";
  tasks[1].started_ns = 1'000'000;
  tasks[1].ran_until_ns = 1'001'000;
  tasks[2].id = {1, 3};
  tasks[2].node = {6, 6};
  tasks[2].pid = 20;
  tasks[2].started_ns = 3'000'000;
  tasks[2].ran_until_ns = 7'000'000;
  // Not run: still pending, and one that failed before it ran.
  tasks[3].state = wire::task_state::pending;
  tasks[4].state = wire::task_state::failed;
  size_t events = 0;
  auto text = views::timeline_trace(tasks, &events);
  CHECK(events == 3);
  auto trace = nlohmann::json::parse(text);
  CHECK(trace["displayTimeUnit"] == "ms");
  std::vector<nlohmann::json> spans;
  std::map<int64_t, std::string> processes;
  std::map<std::pair<int64_t, int64_t>, std::string> threads;
  for (auto& e : trace["traceEvents"]) {
    if (e["ph"] == "X")
      spans.push_back(e);
    else if (e["name"] == "process_name")
      processes[e["pid"]] = e["args"]["name"];
    else if (e["name"] == "thread_name")
      threads[{e["pid"], e["tid"]}] = e["args"]["name"];
  }
  // In the order they started, in microseconds.
  REQUIRE(spans.size() == 3);
  CHECK(spans[0]["args"]["task_id"] == wire::to_string(tasks[1].id));
  CHECK(spans[0]["args"]["state"] == "FAILED");
  CHECK(spans[0]["args"]["error"] == "boom");
  CHECK(spans[0]["ts"] == 1000.0);
  CHECK(spans[0]["dur"] == 1.0);
  CHECK(spans[1]["ts"] == 2000.0);
  CHECK(spans[1]["dur"] == 500.0);
  CHECK(spans[1]["args"].count("error") == 0);
  CHECK(spans[2]["dur"] == 4000.0);
  // A process per node, a thread per worker process.
  CHECK(spans[0]["pid"] == spans[1]["pid"]);
  CHECK(spans[0]["tid"] == 10);
  CHECK(spans[2]["pid"] != spans[0]["pid"]);
  CHECK(spans[2]["tid"] == 20);
  REQUIRE(processes.size() == 2);
  CHECK(processes[spans[2]["pid"]] == "node " + wire::to_string(tasks[2].node));
  REQUIRE(threads.size() == 2);
  CHECK(threads[{spans[2]["pid"], 20}] == "worker 20");
  // Nothing ran: an empty trace, still valid.
  CHECK(
    nlohmann::json::parse(views::timeline_trace({}))["traceEvents"].empty());
}

TEST_CASE("cli lists the worker processes of nodes") {
  wire::worker_info running;
  running.pid = 1234;
  running.job = 2;
  running.alive = true;
  running.log = "/s/logs/worker-2-1234";
  running.out_bytes = 10;
  wire::worker_info ended = running;
  ended.pid = 99;
  ended.alive = false;
  ended.err_bytes = 7;
  wire::unique_id node{0x0123456789abcdef, 1};
  auto v = views::workers_view({{node, {running, ended}}});
  REQUIRE(v.rows.size() == 2);
  CHECK(v.rows[0]["node"] == wire::to_string(node));
  CHECK(v.rows[0]["state"] == "running");
  CHECK(v.rows[1]["state"] == "ended");
  CHECK(v.rows[1]["stderr_bytes"] == 7);
  auto text = views::render_table(v);
  CHECK(text.rfind("NODE      PID   JOB  STATE", 0) == 0);
  CHECK(text.find("01234567  1234  2    running  10      0       /s/logs/")
        != std::string::npos);
  std::string why;
  REQUIRE(views::apply_filters(v, {"state=ended"}, why));
  REQUIRE(v.rows.size() == 1);
  CHECK(v.rows[0]["pid"] == 99);
  CHECK(views::render_table(views::workers_view({}))
        == "no worker processes\n");
}

namespace {

std::vector<wire::object_info> three_objects() {
  std::vector<wire::object_info> xs(3);
  xs[0].id = {1, 1};
  xs[0].state = wire::object_state::ready;
  xs[0].size = 3 << 20;
  xs[0].function = "produce";
  xs[0].job = 2;
  xs[0].pid = 77;
  xs[0].in_store = true;
  xs[0].node = {0xabcdef0123456789, 1};
  xs[0].local_refs = 1;
  xs[0].borrowers = 2;
  xs[1].id = {1, 2};
  xs[1].state = wire::object_state::ready;
  xs[1].size = 1536;
  xs[1].put = true;
  xs[1].job = 2;
  xs[1].pid = 77;
  xs[1].node = {0x1234567800000000, 1};
  xs[1].submitted_refs = 1;
  xs[1].local_refs = 1;
  xs[2].id = {3, 1};
  xs[2].state = wire::object_state::failed;
  xs[2].function = "produce";
  xs[2].error = "boom";
  xs[2].job = 3;
  xs[2].pid = 88;
  xs[2].contained_refs = 1;
  return xs;
}

} // namespace

TEST_CASE("cli lists objects with their maker, owner, place and holders") {
  auto v = views::objects_view(three_objects());
  auto text = views::render_table(v);
  CHECK(text.rfind("ID", 0) == 0);
  CHECK(text.find(wire::to_string({1, 1})
                  + "  READY   3.0 MiB  produce  job 2 pid 77  store abcdef01"
                    "    0       1      0          0          2          -")
        != std::string::npos);
  CHECK(text.find("1.5 KiB  (put)") != std::string::npos);
  CHECK(text.find("process 12345678") != std::string::npos);
  CHECK(text.find("FAILED  0 B      produce  job 3 pid 88  process   ")
        != std::string::npos);
  std::string why;
  REQUIRE(views::apply_filters(v, {"made_by=(put)"}, why));
  REQUIRE(v.rows.size() == 1);
  CHECK(v.rows[0]["size"] == 1536);
  CHECK(v.rows[0]["put"] == true);
}

TEST_CASE("cli counts objects by maker and state, with their bytes") {
  auto text = views::render_table(views::object_summary(three_objects()));
  CHECK(text.find("MADE_BY  PENDING  READY  FAILED  TOTAL  SIZE\n") == 0);
  CHECK(text.find("(put)    0        1      0       1      1.5 KiB\n")
        != std::string::npos);
  CHECK(text.find("produce  0        1      1       2      3.0 MiB\n")
        != std::string::npos);
}

TEST_CASE("cli memory shows stores, objects and bytes per holder and owner") {
  std::vector<wire::node_info> nodes(2);
  nodes[0].id = {0xabcdef0123456789, 1};
  nodes[0].address = "127.0.0.1:7001";
  nodes[0].object_store_used = 3 << 20;
  nodes[0].object_store_capacity = uint64_t{1} << 30;
  nodes[1].id = {0x1111111100000000, 1};
  nodes[1].alive = false;
  auto text = views::memory_text(nodes, three_objects(), 10, 1);
  CHECK(text.find("abcdef01  127.0.0.1:7001  3.0 MiB     1.0 GiB\n")
        != std::string::npos);
  // Dead nodes have no store.
  CHECK(text.find("11111111") == std::string::npos);
  CHECK(text.find("local: 2 objects, 3.0 MiB\n") != std::string::npos);
  CHECK(text.find("submitted: 1 object, 1.5 KiB\n") != std::string::npos);
  CHECK(text.find("contained: 1 object, 0 B\n") != std::string::npos);
  CHECK(text.find("borrowed: 1 object, 3.0 MiB\n") != std::string::npos);
  CHECK(text.find("job 2 pid 77: 2 objects, 3.0 MiB\n") != std::string::npos);
  CHECK(text.find("3 of 10 objects shown; 1 owner did not answer in time\n")
        != std::string::npos);
  auto j = views::memory_json(nodes, three_objects(), 10, 1);
  CHECK(j["stores"].size() == 1);
  CHECK(j["objects"].size() == 3);
  CHECK(j["by_kind"]["borrowed"]["bytes"] == 3 << 20);
  CHECK(j["by_owner"]["job 3 pid 88"]["objects"] == 1);
  CHECK(j["total_objects"] == 10);
  CHECK(j["silent_owners"] == 1);
}
