#pragma once

// The dashboard's JSON API: each path answers with what the caraway tool
// prints for the same command with --format json, e.g. /api/actors is
// `caraway list actors --format json` and /api/summary/tasks is `caraway
// summary tasks --format json`. Pure over a `state_source`, so it is tested
// without a cluster.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "caraway/wire/records.hpp"

namespace caraway::views {

/// The head's tables, as the API reads them. Each returns false if the
/// head did not answer.
class state_source {
public:
  virtual ~state_source() = default;
  virtual bool nodes(std::vector<wire::node_info>& out) = 0;
  virtual bool actors(std::vector<wire::actor_info>& out) = 0;
  virtual bool jobs(std::map<uint64_t, std::string>& out) = 0;
  virtual bool groups(std::vector<wire::placement_group_info>& out) = 0;
  virtual bool tasks(std::vector<wire::task_info>& out) = 0;
  /// The `limit` largest objects; how many the owners own in all, and how
  /// many owners did not answer.
  virtual bool objects(uint32_t limit, std::vector<wire::object_info>& out,
                       uint64_t& total, uint32_t& silent)
    = 0;
};

struct api_request {
  /// E.g. "/api/actors".
  std::string path;
  /// `key=value`, as `caraway list --filter` takes them.
  std::vector<std::string> filters;
  /// At most this many rows (as --limit).
  size_t limit = 100;
};

struct api_reply {
  /// 200, 400 (bad filter), 404 (no such path) or 503 (no answer).
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  /// E.g. X-Total-Count: how many rows there were before the limit.
  std::vector<std::pair<std::string, std::string>> headers;
};

/// The paths the API serves, for an index at /api.
std::vector<std::string> api_paths();

api_reply answer_api(state_source& head, const api_request& req);

} // namespace caraway::views
