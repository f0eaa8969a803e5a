// The dashboard's JSON API: the same JSON as the caraway tool's, filters and
// limits as its options, and an error (never a hang or a crash) for a bad
// question or a silent head.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "api.hpp"
#include "views.hpp"

using namespace caraway;

namespace {

// The head's tables as fixed records; `answers` false plays a head that
// does not answer.
struct fake_head : views::state_source {
  bool answers = true;
  std::vector<wire::node_info> node_list;
  std::vector<wire::actor_info> actor_list;
  std::vector<wire::task_info> task_list;
  std::vector<wire::object_info> object_list;
  uint32_t asked_objects = 0;

  bool nodes(std::vector<wire::node_info>& out) override {
    out = node_list;
    return answers;
  }
  bool actors(std::vector<wire::actor_info>& out) override {
    out = actor_list;
    return answers;
  }
  bool jobs(std::map<uint64_t, std::string>& out) override {
    out = {{1, "driver pid 10 finished"}, {2, "driver pid 11 running"}};
    return answers;
  }
  bool groups(std::vector<wire::placement_group_info>& out) override {
    out.clear();
    return answers;
  }
  bool tasks(std::vector<wire::task_info>& out) override {
    out = task_list;
    return answers;
  }
  bool objects(uint32_t limit, std::vector<wire::object_info>& out,
               uint64_t& total, uint32_t& silent) override {
    asked_objects = limit;
    out.assign(object_list.begin(),
               object_list.begin()
                 + std::min<size_t>(limit, object_list.size()));
    total = object_list.size();
    silent = 1;
    return answers;
  }
};

fake_head small_cluster() {
  fake_head head;
  head.node_list.resize(2);
  head.node_list[0].id = {7, 1};
  head.node_list[0].alive = true;
  head.node_list[0].total = {{"CPU", 2}};
  head.node_list[0].available = {{"CPU", 1}};
  head.node_list[1].id = {7, 2};
  head.node_list[1].alive = false;
  head.actor_list.resize(3);
  for (size_t i = 0; i < 3; ++i) {
    head.actor_list[i].id = {1, i + 1};
    head.actor_list[i].class_name = i == 2 ? "tally" : "counter";
    head.actor_list[i].state = wire::actor_state::alive;
  }
  head.actor_list[0].name = "fib";
  head.task_list.resize(3);
  for (size_t i = 0; i < 3; ++i) {
    head.task_list[i].id = {3, i + 1};
    head.task_list[i].function = "square";
    head.task_list[i].state = wire::task_state::finished;
    head.task_list[i].started_ns = 1000000 * (i + 1);
    head.task_list[i].ran_until_ns = 1000000 * (i + 2);
    head.task_list[i].pid = 99;
  }
  head.task_list[2].state = wire::task_state::failed;
  head.task_list[2].error = "no luck";
  head.object_list.resize(3);
  for (size_t i = 0; i < 3; ++i) {
    head.object_list[i].id = {5, i + 1};
    head.object_list[i].size = 300 - 100 * i;
    head.object_list[i].state = wire::object_state::ready;
  }
  return head;
}

std::string header(const views::api_reply& r, const std::string& key) {
  for (auto& [k, v] : r.headers)
    if (k == key)
      return v;
  return "(none)";
}

views::api_reply ask(fake_head& head, std::string path,
                     std::vector<std::string> filters = {},
                     size_t limit = 100) {
  return views::answer_api(head, {std::move(path), std::move(filters), limit});
}

} // namespace

TEST_CASE("api answers with the caraway tool's JSON") {
  auto head = small_cluster();
  auto actors = ask(head, "/api/actors");
  CHECK(actors.status == 200);
  CHECK(actors.body == views::render_json(views::actors_view(head.actor_list)));
  auto nodes = ask(head, "/api/nodes");
  CHECK(nodes.body == views::render_json(views::nodes_view(head.node_list)));
  auto summary = ask(head, "/api/summary/tasks");
  CHECK(summary.body
        == views::render_json(views::task_summary(head.task_list)));
  auto status = nlohmann::json::parse(ask(head, "/api/status").body);
  CHECK(status["alive_nodes"] == 1);
  CHECK(status["used"]["CPU"] == 1);
  auto timeline = nlohmann::json::parse(ask(head, "/api/timeline").body);
  size_t spans = 0;
  for (auto& e : timeline["traceEvents"])
    spans += e["ph"] == "X" ? 1 : 0;
  CHECK(spans == 3);
  auto jobs = nlohmann::json::parse(ask(head, "/api/jobs").body);
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[1]["driver"] == "driver pid 11 running");
}

TEST_CASE("api filters and limits as the tool's options do") {
  auto head = small_cluster();
  auto failed = ask(head, "/api/tasks", {"state=failed"});
  auto rows = nlohmann::json::parse(failed.body);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["error"] == "no luck");
  CHECK(header(failed, "X-Total-Count") == "1");
  auto two = ask(head, "/api/actors", {"class=counter"}, 1);
  CHECK(nlohmann::json::parse(two.body).size() == 1);
  CHECK(header(two, "X-Total-Count") == "2");
}

TEST_CASE("api asks owners for as many objects as it shows, or all to filter") {
  auto head = small_cluster();
  auto largest = ask(head, "/api/objects", {}, 2);
  CHECK(head.asked_objects == 2);
  CHECK(nlohmann::json::parse(largest.body).size() == 2);
  CHECK(header(largest, "X-Objects-Total") == "3");
  CHECK(header(largest, "X-Silent-Owners") == "1");
  ask(head, "/api/objects", {"state=ready"}, 2);
  CHECK(head.asked_objects == 10000);
  ask(head, "/api/objects", {}, 50000);
  CHECK(head.asked_objects == 10000);
  auto memory = nlohmann::json::parse(ask(head, "/api/memory").body);
  CHECK(memory["total_objects"] == 3);
}

TEST_CASE("api refuses bad questions and says when the head is silent") {
  auto head = small_cluster();
  auto bad_filter = ask(head, "/api/actors", {"colour=red"});
  CHECK(bad_filter.status == 400);
  CHECK(nlohmann::json::parse(bad_filter.body)["error"].get<std::string>().find(
          "colour")
        != std::string::npos);
  CHECK(ask(head, "/api/summary/nodes").status == 404);
  CHECK(ask(head, "/api/secrets").status == 404);
  CHECK(ask(head, "/metrics").status == 404);
  auto index = nlohmann::json::parse(ask(head, "/api").body);
  CHECK(index.size() == views::api_paths().size());
  head.answers = false;
  for (auto& path : views::api_paths()) {
    CAPTURE(path);
    auto r = ask(head, path);
    CHECK(r.status == 503);
    CHECK(nlohmann::json::parse(r.body)["error"]
          == "the head did not answer in time");
  }
}
