#include "views.hpp"

#include "caraway/wire/names.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <set>
#include <sstream>

namespace caraway::views {

using json = nlohmann::ordered_json;

namespace {

std::string address_of(const wire::node_info& node) {
  // Nodes embedded in a driver have no address of their own.
  return node.address.empty() ? "(embedded)" : node.address;
}

json resources(const wire::resource_set& xs) {
  json result = json::object();
  for (auto& [name, x] : xs)
    if (!wire::of_bundle(name))
      result[name] = x;
  return result;
}

std::string lower(std::string x) {
  std::transform(x.begin(), x.end(), x.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return x;
}

// A field as the table shows it.
std::string cell(const json& x) {
  if (x.is_null())
    return "-";
  if (x.is_string())
    return x.get<std::string>().empty() ? "-" : x.get<std::string>();
  if (x.is_boolean())
    return x.get<bool>() ? "true" : "false";
  if (x.is_number())
    return amount(x.get<double>());
  std::string result;
  if (x.is_object()) {
    for (auto& [key, value] : x.items())
      result += (result.empty() ? "" : " ") + key + ':' + cell(value);
  } else {
    for (auto& value : x)
      result += (result.empty() ? "" : " ") + cell(value);
  }
  return result.empty() ? "-" : result;
}

// Milliseconds between two times in ns, or null if either is unknown.
json millis(int64_t from, int64_t to) {
  if (from == 0 || to == 0 || to < from)
    return nullptr;
  return std::round(static_cast<double>(to - from) / 1e4) / 100;
}

std::string qualified(const std::string& ns, const std::string& name) {
  return name.empty() ? "" : ns + '/' + name;
}

std::string short_id(const wire::unique_id& id) {
  return id.nil() ? std::string{} : wire::to_string(id).substr(0, 8);
}

// Bytes for people: 512 B, 1.5 KiB, 20.0 MiB.
std::string bytes_text(uint64_t n) {
  if (n < 1024)
    return std::to_string(n) + " B";
  static const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double x = static_cast<double>(n);
  size_t unit = 0;
  for (x /= 1024; x >= 1024 && unit + 1 < 4; x /= 1024)
    ++unit;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", x, units[unit]);
  return buf;
}

// What made an object: its task's function, or put.
std::string made_by(const wire::object_info& x) {
  return x.put ? "(put)" : x.function;
}

std::string owner_of(const wire::object_info& x) {
  return "job " + std::to_string(x.job) + " pid " + std::to_string(x.pid);
}

} // namespace

std::string amount(double x) {
  char buf[32];
  if (x == std::floor(x) && std::fabs(x) < 1e15)
    std::snprintf(buf, sizeof(buf), "%.0f", x + 0.0);
  else
    std::snprintf(buf, sizeof(buf), "%g", x);
  return buf;
}

view nodes_view(const std::vector<wire::node_info>& nodes) {
  view v;
  v.columns = {{"id", "ID"},
               {"address", "ADDRESS"},
               {"state", "STATE"},
               {"total", "RESOURCES"},
               {"pending_tasks", "PENDING"}};
  v.empty_text = "no nodes";
  for (auto& node : nodes)
    v.rows.push_back({{"id", wire::to_string(node.id)},
                      {"address", address_of(node)},
                      {"state", node.alive ? "alive" : "dead"},
                      {"total", resources(node.total)},
                      {"available", resources(node.available)},
                      {"pending_tasks", node.pending_tasks},
                      {"object_store_used", node.object_store_used},
                      {"object_store_capacity", node.object_store_capacity}});
  return v;
}

view actors_view(const std::vector<wire::actor_info>& actors) {
  view v;
  v.columns = {{"id", "ID"},
               {"state", "STATE"},
               {"class", "CLASS"},
               {"qualified_name", "NAME"},
               {"node_short", "NODE"},
               {"job", "JOB"},
               {"pid_text", "PID"},
               {"restarts", "RESTARTS"},
               {"death", "DEATH"}};
  v.empty_text = "no actors";
  for (auto& actor : actors) {
    auto dead = actor.state == wire::actor_state::dead;
    auto node = actor.node.nil() ? std::string{} : wire::to_string(actor.node);
    v.rows.push_back(
      {{"id", wire::to_string(actor.id)},
       {"state", lower(wire::name_of(actor.state))},
       {"class", actor.class_name},
       {"name", actor.name},
       {"namespace", actor.ns},
       {"qualified_name", qualified(actor.ns, actor.name)},
       {"node", node},
       {"node_short", node.substr(0, std::min<size_t>(node.size(), 8))},
       {"job", actor.job},
       {"pid", actor.pid},
       {"pid_text", actor.pid > 0 ? std::to_string(actor.pid) : ""},
       {"restarts", actor.num_restarts},
       {"death", dead ? actor.death.message : ""}});
  }
  return v;
}

view jobs_view(const std::map<uint64_t, std::string>& jobs) {
  view v;
  v.columns = {{"job", "JOB"}, {"driver", "DRIVER"}};
  v.empty_text = "no jobs";
  for (auto& [number, driver] : jobs)
    v.rows.push_back({{"job", number}, {"driver", driver}});
  return v;
}

view workers_view(
  const std::vector<std::pair<wire::unique_id, std::vector<wire::worker_info>>>&
    nodes) {
  view v;
  v.columns = {{"node_short", "NODE"},
               {"pid", "PID"},
               {"job", "JOB"},
               {"state", "STATE"},
               {"stdout_bytes", "STDOUT"},
               {"stderr_bytes", "STDERR"},
               {"log", "LOG"}};
  v.empty_text = "no worker processes";
  for (auto& [node, workers] : nodes) {
    auto id = wire::to_string(node);
    for (auto& w : workers)
      v.rows.push_back({{"node", id},
                        {"node_short", id.substr(0, 8)},
                        {"pid", w.pid},
                        {"job", w.job},
                        {"state", w.alive ? "running" : "ended"},
                        {"stdout_bytes", w.out_bytes},
                        {"stderr_bytes", w.err_bytes},
                        {"log", w.log}});
  }
  return v;
}

view groups_view(const std::vector<wire::placement_group_info>& groups) {
  view v;
  v.columns = {{"id", "ID"},           {"state", "STATE"},
               {"strategy", "STRATEGY"}, {"bundles_at", "BUNDLES"},
               {"qualified_name", "NAME"}, {"why", "WHY"}};
  v.empty_text = "no placement groups";
  for (auto& g : groups) {
    json bundles = json::array();
    json at = json::array();
    for (size_t i = 0; i < g.bundles.size(); ++i) {
      auto node = i < g.nodes.size() && !g.nodes[i].nil()
                    ? wire::to_string(g.nodes[i])
                    : std::string{};
      bundles.push_back({{"resources", resources(g.bundles[i])},
                         {"node", node}});
      // The node by the first 8 digits of its id, as `status` shows it.
      auto text = '{' + cell(resources(g.bundles[i])) + '}';
      if (!node.empty())
        text += '@' + node.substr(0, 8);
      at.push_back(text);
    }
    auto waiting = g.state != wire::placement_group_state::created
                   && g.state != wire::placement_group_state::removed;
    v.rows.push_back({{"id", wire::to_string(g.id)},
                      {"state", wire::name_of(g.state)},
                      {"strategy", wire::name_of(g.strategy)},
                      {"bundles", bundles},
                      {"bundles_at", at},
                      {"name", g.name},
                      {"namespace", g.ns},
                      {"qualified_name", qualified(g.ns, g.name)},
                      {"why", waiting ? g.why : ""}});
  }
  return v;
}

view tasks_view(const std::vector<wire::task_info>& tasks) {
  view v;
  v.columns = {{"id", "ID"},
               {"state", "STATE"},
               {"function", "FUNCTION"},
               {"node_short", "NODE"},
               {"attempts", "ATTEMPTS"},
               {"run_ms", "RUN_MS"},
               {"error", "ERROR"}};
  v.empty_text = "no tasks";
  for (auto& t : tasks) {
    auto node = t.node.nil() ? std::string{} : wire::to_string(t.node);
    v.rows.push_back(
      {{"id", wire::to_string(t.id)},
       {"state", wire::name_of(t.state)},
       {"function", t.function},
       {"node", node},
       {"node_short", node.substr(0, std::min<size_t>(node.size(), 8))},
       {"attempts", t.attempts},
       {"submitted_ns", t.submitted_ns},
       {"scheduled_ns", t.scheduled_ns},
       {"ended_ns", t.ended_ns},
       {"started_ns", t.started_ns},
       {"ran_until_ns", t.ran_until_ns},
       {"pid", t.pid},
       {"wait_ms", millis(t.submitted_ns, t.scheduled_ns)},
       // How long it ran where it ran; from the owner's side (sent until
       // its result came back) when the run's times are unknown.
       {"run_ms", t.started_ns != 0 ? millis(t.started_ns, t.ran_until_ns)
                                    : millis(t.scheduled_ns, t.ended_ns)},
       {"error", t.error}});
  }
  return v;
}

view objects_view(const std::vector<wire::object_info>& objects) {
  view v;
  v.columns = {{"id", "ID"},          {"state", "STATE"},
               {"size_text", "SIZE"}, {"made_by", "MADE_BY"},
               {"owner", "OWNER"},    {"where", "WHERE"},
               {"copies", "COPIES"},  {"local_refs", "LOCAL"},
               {"submitted_refs", "SUBMITTED"},
               {"contained_refs", "CONTAINED"},
               {"borrowers", "BORROWERS"}, {"error", "ERROR"}};
  v.empty_text = "no objects";
  for (auto& x : objects) {
    std::string where = x.in_store ? "store" : "process";
    if (!x.node.nil())
      where += ' ' + short_id(x.node);
    v.rows.push_back({{"id", wire::to_string(x.id)},
                      {"state", wire::name_of(x.state)},
                      {"size", x.size},
                      {"size_text", bytes_text(x.size)},
                      {"made_by", made_by(x)},
                      {"put", x.put},
                      {"function", x.function},
                      {"owner", owner_of(x)},
                      {"job", x.job},
                      {"pid", x.pid},
                      {"owner_node", wire::to_string(x.owner_node)},
                      {"where", where},
                      {"in_store", x.in_store},
                      {"node", wire::to_string(x.node)},
                      {"copies", x.copies},
                      {"local_refs", x.local_refs},
                      {"submitted_refs", x.submitted_refs},
                      {"contained_refs", x.contained_refs},
                      {"borrowers", x.borrowers},
                      {"error", x.error}});
  }
  return v;
}

std::string timeline_trace(const std::vector<wire::task_info>& tasks,
                           size_t* events) {
  // Chrome's trace event format: a process per node and a thread per
  // worker process, named by metadata events; a complete event ("X") per
  // task that ran, in microseconds.
  std::map<wire::unique_id, int64_t> node_numbers;
  std::set<std::pair<int64_t, int32_t>> workers;
  std::vector<json> lines;
  std::vector<const wire::task_info*> ran;
  for (auto& t : tasks)
    if ((t.state == wire::task_state::finished
         || t.state == wire::task_state::failed)
        && t.started_ns > 0 && t.ran_until_ns >= t.started_ns)
      ran.push_back(&t);
  std::sort(ran.begin(), ran.end(), [](auto* x, auto* y) {
    return x->started_ns < y->started_ns;
  });
  for (auto* t : ran) {
    auto [i, added] = node_numbers.emplace(
      t->node, static_cast<int64_t>(node_numbers.size()) + 1);
    auto pid = i->second;
    if (added)
      lines.push_back({{"name", "process_name"},
                       {"ph", "M"},
                       {"pid", pid},
                       {"args",
                        {{"name", t->node.nil()
                                    ? std::string{"this process"}
                                    : "node " + wire::to_string(t->node)}}}});
    if (workers.emplace(pid, t->pid).second)
      lines.push_back({{"name", "thread_name"},
                       {"ph", "M"},
                       {"pid", pid},
                       {"tid", t->pid},
                       {"args", {{"name", "worker " + std::to_string(t->pid)}}}});
    json args{{"task_id", wire::to_string(t->id)},
              {"state", wire::name_of(t->state)},
              {"attempts", t->attempts}};
    if (!t->error.empty())
      args["error"] = t->error;
    lines.push_back({{"name", t->function},
                     {"cat", "task"},
                     {"ph", "X"},
                     {"ts", static_cast<double>(t->started_ns) / 1000},
                     {"dur", static_cast<double>(t->ran_until_ns
                                                 - t->started_ns)
                               / 1000},
                     {"pid", pid},
                     {"tid", t->pid},
                     {"args", std::move(args)}});
  }
  if (events != nullptr)
    *events = ran.size();
  // One event per line: valid JSON that a line tool can still count.
  std::string out = "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i].dump();
    out += i + 1 < lines.size() ? ",\n" : "\n";
  }
  out += "]}\n";
  return out;
}

namespace {

// A row per group (`key`: what names it), counting its members by state:
// a column per state, then the total. `group` and `state` map an item to
// its group's name and its state's.
template <class T, class Group, class State>
view count_by_state(const std::vector<T>& items, const column& key,
                    const std::vector<std::string>& states, Group group,
                    State state, std::string empty_text) {
  view v;
  v.columns.push_back(key);
  for (auto& s : states)
    v.columns.push_back({s, s});
  v.columns.push_back({"total", "TOTAL"});
  v.empty_text = std::move(empty_text);
  std::map<std::string, json> by_group;
  for (auto& x : items) {
    std::string name = group(x);
    if (name.empty())
      name = "(unknown)";
    auto& row = by_group[name];
    if (row.is_null()) {
      row = {{key.key, name}};
      for (auto& s : states)
        row[s] = 0;
      row["total"] = 0;
    }
    std::string s = state(x);
    row[s] = row[s].get<int64_t>() + 1;
    row["total"] = row["total"].get<int64_t>() + 1;
  }
  for (auto& [name, row] : by_group)
    v.rows.push_back(std::move(row));
  return v;
}

} // namespace

view task_summary(const std::vector<wire::task_info>& tasks) {
  return count_by_state(
    tasks, {"function", "FUNCTION"},
    {"PENDING", "SCHEDULED", "RUNNING", "FINISHED", "FAILED"},
    [](const wire::task_info& t) { return t.function; },
    [](const wire::task_info& t) { return wire::name_of(t.state); },
    "no tasks");
}

view actor_summary(const std::vector<wire::actor_info>& actors) {
  return count_by_state(
    actors, {"class", "CLASS"}, {"PENDING", "ALIVE", "RESTARTING", "DEAD"},
    [](const wire::actor_info& a) { return a.class_name; },
    [](const wire::actor_info& a) { return wire::name_of(a.state); },
    "no actors");
}

uint32_t objects_to_ask(bool wide, size_t limit) {
  constexpr uint32_t all = 10000;
  return wide ? all : static_cast<uint32_t>(std::min<size_t>(limit, all));
}

view object_summary(const std::vector<wire::object_info>& objects) {
  auto v = count_by_state(
    objects, {"made_by", "MADE_BY"}, {"PENDING", "READY", "FAILED"},
    [](const wire::object_info& x) { return made_by(x); },
    [](const wire::object_info& x) { return wire::name_of(x.state); },
    "no objects");
  std::map<std::string, uint64_t> bytes;
  for (auto& x : objects) {
    auto name = made_by(x);
    bytes[name.empty() ? "(unknown)" : name] += x.size;
  }
  v.columns.push_back({"size_text", "SIZE"});
  for (auto& row : v.rows) {
    auto n = bytes[row["made_by"].get<std::string>()];
    row["size"] = n;
    row["size_text"] = bytes_text(n);
  }
  return v;
}

namespace {

// Objects and bytes per kind of holder, and per owner.
struct memory_totals {
  struct count {
    uint64_t objects = 0;
    uint64_t bytes = 0;
    void add(uint64_t size) {
      ++objects;
      bytes += size;
    }
  };
  std::vector<std::pair<std::string, count>> kinds{
    {"local", {}}, {"submitted", {}}, {"contained", {}}, {"borrowed", {}}};
  std::map<std::string, count> owners;

  explicit memory_totals(const std::vector<wire::object_info>& objects) {
    for (auto& x : objects) {
      int64_t held[] = {x.local_refs, x.submitted_refs, x.contained_refs,
                        x.borrowers};
      for (size_t i = 0; i < 4; ++i)
        if (held[i] > 0)
          kinds[i].second.add(x.size);
      owners[owner_of(x)].add(x.size);
    }
  }
};

view stores_view(const std::vector<wire::node_info>& nodes) {
  view v;
  v.columns = {{"node_short", "NODE"},
               {"address", "ADDRESS"},
               {"used_text", "STORE_USED"},
               {"capacity_text", "CAPACITY"}};
  v.empty_text = "no live nodes";
  for (auto& node : nodes) {
    if (!node.alive)
      continue;
    v.rows.push_back({{"node", wire::to_string(node.id)},
                      {"node_short", short_id(node.id)},
                      {"address", address_of(node)},
                      {"used", node.object_store_used},
                      {"used_text", bytes_text(node.object_store_used)},
                      {"capacity", node.object_store_capacity},
                      {"capacity_text",
                       bytes_text(node.object_store_capacity)}});
  }
  return v;
}

} // namespace

std::string memory_text(const std::vector<wire::node_info>& nodes,
                        const std::vector<wire::object_info>& objects,
                        uint64_t total, uint32_t silent) {
  std::ostringstream out;
  out << "-- object stores\n" << render_table(stores_view(nodes));
  auto all = objects_view(objects);
  view listed;
  listed.empty_text = all.empty_text;
  listed.rows = all.rows;
  for (auto& c : all.columns)
    if (c.key != "error" && c.key != "state")
      listed.columns.push_back(c);
  out << "\n-- objects, largest first\n" << render_table(listed);
  memory_totals sums{objects};
  out << "\n-- held by kind of reference\n";
  for (auto& [kind, n] : sums.kinds)
    out << kind << ": " << n.objects << (n.objects == 1 ? " object, " : " objects, ")
        << bytes_text(n.bytes) << '\n';
  out << "\n-- by owner\n";
  for (auto& [owner, n] : sums.owners)
    out << owner << ": " << n.objects
        << (n.objects == 1 ? " object, " : " objects, ") << bytes_text(n.bytes)
        << '\n';
  out << '\n' << objects.size() << " of " << total << " objects shown";
  if (silent > 0)
    out << "; " << silent << (silent == 1 ? " owner" : " owners")
        << " did not answer in time";
  out << '\n';
  return out.str();
}

json memory_json(const std::vector<wire::node_info>& nodes,
                 const std::vector<wire::object_info>& objects, uint64_t total,
                 uint32_t silent) {
  memory_totals sums{objects};
  json kinds = json::object();
  for (auto& [kind, n] : sums.kinds)
    kinds[kind] = {{"objects", n.objects}, {"bytes", n.bytes}};
  json owners = json::object();
  for (auto& [owner, n] : sums.owners)
    owners[owner] = {{"objects", n.objects}, {"bytes", n.bytes}};
  return {{"stores", stores_view(nodes).rows},
          {"objects", objects_view(objects).rows},
          {"by_kind", std::move(kinds)},
          {"by_owner", std::move(owners)},
          {"total_objects", total},
          {"silent_owners", silent}};
}

bool apply_filters(view& v, const std::vector<std::string>& filters,
                   std::string& why) {
  for (auto& filter : filters) {
    auto eq = filter.find('=');
    if (eq == std::string::npos || eq == 0) {
      why = "a filter is key=value, not '" + filter + "'";
      return false;
    }
    auto key = lower(filter.substr(0, eq));
    auto value = lower(filter.substr(eq + 1));
    // Headers name fields too (NAME is the qualified name in the table).
    if (!v.rows.empty() && !v.rows[0].contains(key))
      for (auto& c : v.columns)
        if (lower(c.header) == key)
          key = c.key;
    if (!v.rows.empty() && !v.rows[0].contains(key)) {
      std::string keys;
      for (auto& [k, x] : v.rows[0].items())
        keys += (keys.empty() ? "" : ", ") + k;
      why = "no field '" + key + "' to filter on; fields: " + keys;
      return false;
    }
    json kept = json::array();
    for (auto& row : v.rows) {
      auto& field = row[key];
      auto text = field.is_string() ? field.get<std::string>() : cell(field);
      if (lower(text) == value)
        kept.push_back(row);
    }
    v.rows = std::move(kept);
  }
  return true;
}

size_t apply_limit(view& v, size_t limit) {
  auto n = v.rows.size();
  if (n > limit)
    v.rows.erase(v.rows.begin() + static_cast<std::ptrdiff_t>(limit),
                 v.rows.end());
  return n;
}

std::string render_table(const view& v) {
  if (v.rows.empty())
    return v.empty_text + '\n';
  std::vector<std::vector<std::string>> lines;
  std::vector<size_t> width(v.columns.size(), 0);
  std::vector<std::string> header;
  for (auto& c : v.columns)
    header.push_back(c.header);
  lines.push_back(std::move(header));
  for (auto& row : v.rows) {
    std::vector<std::string> line;
    for (auto& c : v.columns)
      line.push_back(row.contains(c.key) ? cell(row.at(c.key)) : "-");
    lines.push_back(std::move(line));
  }
  for (auto& line : lines)
    for (size_t i = 0; i < line.size(); ++i)
      width[i] = std::max(width[i], line[i].size());
  std::ostringstream out;
  for (auto& line : lines) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      text += line[i];
      if (i + 1 < line.size())
        text += std::string(width[i] - line[i].size() + 2, ' ');
    }
    // Trailing blanks of empty last columns go.
    text.erase(text.find_last_not_of(' ') + 1);
    out << text << '\n';
  }
  return out.str();
}

std::string render_json(const view& v) {
  return v.rows.dump(2) + '\n';
}

const json* find_row(const view& v, const std::string& id, std::string& why) {
  const json* found = nullptr;
  if (id.size() < 8) {
    why = "an id needs at least 8 hex digits, not '" + id + "'";
    return nullptr;
  }
  for (auto& row : v.rows) {
    if (!row.contains("id"))
      continue;
    auto& x = row.at("id").get_ref<const std::string&>();
    if (x.compare(0, id.size(), lower(id)) != 0)
      continue;
    if (found != nullptr) {
      why = "more than one id starts with " + id;
      return nullptr;
    }
    found = &row;
  }
  if (found == nullptr)
    why = "no id starts with " + id;
  return found;
}

std::string render_fields(const json& row) {
  std::ostringstream out;
  for (auto& [key, value] : row.items()) {
    if (value.is_array() && !value.empty() && value[0].is_object()) {
      // Bundles: one line each.
      for (size_t i = 0; i < value.size(); ++i)
        out << key << '[' << i << "]: " << cell(value[i]) << '\n';
      continue;
    }
    out << key << ": " << cell(value) << '\n';
  }
  return out.str();
}

std::string status_text(const std::vector<wire::node_info>& nodes) {
  size_t width = 0;
  for (auto& node : nodes)
    width = std::max(width, address_of(node).size());
  wire::resource_set total;
  wire::resource_set used;
  uint64_t pending = 0;
  size_t alive = 0;
  std::ostringstream out;
  for (auto& node : nodes) {
    out << wire::to_string(node.id).substr(0, 8) << "  " << std::left
        << std::setw(static_cast<int>(width)) << address_of(node) << "  "
        << (node.alive ? "alive" : "dead ");
    // A dead node's use is unknown, and its resources are gone from the
    // cluster: show what it had, count none of it.
    if (!node.alive) {
      for (auto& [name, amount_total] : node.total)
        if (!wire::of_bundle(name))
          out << "  " << name << " -/" << amount(amount_total);
      out << "  pending -\n";
      continue;
    }
    for (auto& [name, amount_total] : node.total) {
      if (wire::of_bundle(name))
        continue;
      auto i = node.available.find(name);
      auto in_use = amount_total - (i != node.available.end() ? i->second : 0);
      out << "  " << name << ' ' << amount(in_use) << '/'
          << amount(amount_total);
      total[name] += amount_total;
      used[name] += in_use;
    }
    constexpr uint64_t mib = 1 << 20;
    out << "  store " << (node.object_store_used + mib - 1) / mib << '/'
        << node.object_store_capacity / mib << " MiB";
    out << "  pending " << node.pending_tasks << '\n';
    ++alive;
    pending += node.pending_tasks;
  }
  out << "cluster: " << alive << " of " << nodes.size() << " nodes alive";
  for (auto& [name, amount_total] : total)
    out << "  " << name << ' ' << amount(used[name]) << '/'
        << amount(amount_total);
  out << "\npending tasks: " << pending << '\n';
  return out.str();
}

json status_json(const std::vector<wire::node_info>& nodes) {
  json total = json::object();
  json used = json::object();
  uint64_t pending = 0;
  size_t alive = 0;
  for (auto& node : nodes) {
    if (!node.alive)
      continue;
    ++alive;
    pending += node.pending_tasks;
    for (auto& [name, x] : node.total) {
      if (wire::of_bundle(name))
        continue;
      auto i = node.available.find(name);
      total[name] = total.value(name, 0.0) + x;
      used[name] = used.value(name, 0.0) + x
                   - (i != node.available.end() ? i->second : 0);
    }
  }
  return {{"nodes", nodes_view(nodes).rows},
          {"alive_nodes", alive},
          {"total", total},
          {"used", used},
          {"pending_tasks", pending}};
}

} // namespace caraway::views
