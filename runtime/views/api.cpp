#include "api.hpp"

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "views.hpp"

namespace caraway::views {

namespace {

api_reply error_reply(int status, const std::string& why) {
  api_reply r;
  r.status = status;
  r.body = nlohmann::json{{"error", why}}.dump() + '\n';
  return r;
}

api_reply no_answer() {
  return error_reply(503, "the head did not answer in time");
}

// A listing, filtered and cut as the tool does it.
api_reply rows_reply(view v, const api_request& req) {
  std::string why;
  if (!apply_filters(v, req.filters, why))
    return error_reply(400, why);
  auto n = apply_limit(v, req.limit);
  api_reply r;
  r.body = render_json(v);
  r.headers.emplace_back("X-Total-Count", std::to_string(n));
  return r;
}

std::optional<view> listing(state_source& head, const std::string& what,
                            bool summary) {
  if (what == "nodes" && !summary) {
    std::vector<wire::node_info> xs;
    return head.nodes(xs) ? std::optional{nodes_view(xs)} : std::nullopt;
  }
  if (what == "actors") {
    std::vector<wire::actor_info> xs;
    if (!head.actors(xs))
      return std::nullopt;
    return summary ? actor_summary(xs) : actors_view(xs);
  }
  if (what == "jobs" && !summary) {
    std::map<uint64_t, std::string> xs;
    return head.jobs(xs) ? std::optional{jobs_view(xs)} : std::nullopt;
  }
  if (what == "placement-groups" && !summary) {
    std::vector<wire::placement_group_info> xs;
    return head.groups(xs) ? std::optional{groups_view(xs)} : std::nullopt;
  }
  if (what == "tasks") {
    std::vector<wire::task_info> xs;
    if (!head.tasks(xs))
      return std::nullopt;
    return summary ? task_summary(xs) : tasks_view(xs);
  }
  return std::nullopt;
}

const std::vector<std::string> list_kinds{
  "nodes", "actors", "jobs", "placement-groups", "tasks", "objects"};
const std::vector<std::string> summary_kinds{"tasks", "actors", "objects"};

bool one_of(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

std::vector<std::string> api_paths() {
  std::vector<std::string> result{"/api/status", "/api/memory",
                                  "/api/timeline"};
  for (auto& x : list_kinds)
    result.push_back("/api/" + x);
  for (auto& x : summary_kinds)
    result.push_back("/api/summary/" + x);
  return result;
}

api_reply answer_api(state_source& head, const api_request& req) {
  const std::string prefix = "/api/";
  if (req.path == "/api" || req.path == prefix) {
    api_reply r;
    r.body = nlohmann::json(api_paths()).dump() + '\n';
    return r;
  }
  if (req.path.compare(0, prefix.size(), prefix) != 0)
    return error_reply(404, "no such path: " + req.path);
  auto what = req.path.substr(prefix.size());
  bool summary = what.compare(0, 8, "summary/") == 0;
  if (summary)
    what = what.substr(8);
  if (summary ? !one_of(summary_kinds, what)
              : !one_of(list_kinds, what) && what != "status"
                  && what != "memory" && what != "timeline")
    return error_reply(404, "no such path: " + req.path + " (see /api)");
  if (what == "status") {
    std::vector<wire::node_info> nodes;
    if (!head.nodes(nodes))
      return no_answer();
    api_reply r;
    r.body = status_json(nodes).dump(2) + '\n';
    return r;
  }
  if (what == "timeline") {
    std::vector<wire::task_info> tasks;
    if (!head.tasks(tasks))
      return no_answer();
    api_reply r;
    r.body = timeline_trace(tasks);
    return r;
  }
  if (what == "objects" || what == "memory") {
    bool wide = summary || !req.filters.empty();
    auto limit = objects_to_ask(wide, req.limit);
    std::vector<wire::object_info> objects;
    uint64_t total = 0;
    uint32_t silent = 0;
    if (!head.objects(limit, objects, total, silent))
      return no_answer();
    api_reply r;
    if (what == "memory") {
      std::vector<wire::node_info> nodes;
      if (!head.nodes(nodes))
        return no_answer();
      r.body = memory_json(nodes, objects, total, silent).dump(2) + '\n';
    } else {
      r = rows_reply(summary ? object_summary(objects) : objects_view(objects),
                     req);
      r.headers.emplace_back("X-Objects-Total", std::to_string(total));
    }
    r.headers.emplace_back("X-Silent-Owners", std::to_string(silent));
    return r;
  }
  auto v = listing(head, what, summary);
  if (!v)
    return no_answer();
  return rows_reply(std::move(*v), req);
}

} // namespace caraway::views
