#pragma once

// What the caraway tool and the dashboard show of the cluster: each listing
// as rows of named fields, filtered and cut to a limit, then printed as a
// table with headers or as JSON (the dashboard's API serves the same JSON).
// Pure: no connection, so it is tested on its own.

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caraway/wire/records.hpp"

namespace caraway::views {

struct column {
  std::string key;    // field of each row
  std::string header; // table header
};

struct view {
  std::vector<column> columns;
  /// One JSON object per row, with at least the columns' keys.
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  /// Printed instead of an empty table, e.g. "no actors".
  std::string empty_text;
};

view nodes_view(const std::vector<wire::node_info>& nodes);
view actors_view(const std::vector<wire::actor_info>& actors);
view jobs_view(const std::map<uint64_t, std::string>& jobs);
view groups_view(const std::vector<wire::placement_group_info>& groups);
view tasks_view(const std::vector<wire::task_info>& tasks);

/// Objects as their owners describe them (largest first, as the head
/// answers): where the value is, its owner, who holds it.
view objects_view(const std::vector<wire::object_info>& objects);

/// How many objects to ask the owners for: the `limit` largest a listing
/// shows, or, when filters or a count need (nearly) all of them (`wide`),
/// 10000.
uint32_t objects_to_ask(bool wide, size_t limit);

/// Objects counted by what made them (a function, or put) and state, with
/// their bytes, as `ray summary objects` does.
view object_summary(const std::vector<wire::object_info>& objects);

/// `caraway memory`: each live node's store use, the objects by size with
/// their owner and holders, and bytes per kind of holder. `total` is how
/// many objects the owners own (more than listed past the limit); `silent`
/// how many owners did not answer.
std::string memory_text(const std::vector<wire::node_info>& nodes,
                        const std::vector<wire::object_info>& objects,
                        uint64_t total, uint32_t silent);
nlohmann::ordered_json memory_json(const std::vector<wire::node_info>& nodes,
                                   const std::vector<wire::object_info>& objects,
                                   uint64_t total, uint32_t silent);

/// Worker processes of nodes (`caraway logs`): each node with its workers.
view workers_view(
  const std::vector<std::pair<wire::unique_id, std::vector<wire::worker_info>>>&
    nodes);

/// `caraway timeline`: the tasks that ran, as a trace in Chrome's trace
/// event format (Perfetto and chrome://tracing load it): a row per worker
/// process, grouped by node, and an event per task from when it started
/// running until it stopped. `events`, if given, gets how many tasks.
std::string timeline_trace(const std::vector<wire::task_info>& tasks,
                           size_t* events = nullptr);

/// Tasks counted by function and state, as `ray summary tasks` does.
view task_summary(const std::vector<wire::task_info>& tasks);

/// Actors counted by class and state, as `ray summary actors` does.
view actor_summary(const std::vector<wire::actor_info>& actors);

/// Keeps the rows matching every `key=value` filter: the row's field
/// `key`, as the table shows it, equals `value`, both ignoring case. False
/// (with the reason in `why`) for a malformed filter or an unknown key.
bool apply_filters(view& v, const std::vector<std::string>& filters,
                   std::string& why);

/// Keeps the first `limit` rows; returns how many there were.
size_t apply_limit(view& v, size_t limit);

/// A header line and one line per row, columns two spaces apart.
std::string render_table(const view& v);

/// The rows as a JSON array.
std::string render_json(const view& v);

/// The row whose "id" is `id` or starts with it (at least 8 digits);
/// null if none or more than one.
const nlohmann::ordered_json* find_row(const view& v, const std::string& id,
                               std::string& why);

/// A row as "key: value" lines, in the order of its fields.
std::string render_fields(const nlohmann::ordered_json& row);

/// `caraway status`: each node's use and the cluster's, as text or JSON.
std::string status_text(const std::vector<wire::node_info>& nodes);
nlohmann::ordered_json status_json(const std::vector<wire::node_info>& nodes);

/// A resource amount: whole numbers without a fraction.
std::string amount(double x);

} // namespace caraway::views
