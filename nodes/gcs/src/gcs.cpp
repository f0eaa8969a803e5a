#include "caraway/node/gcs.hpp"
#include "caraway/wire/errc.hpp"

#include <algorithm>
#include <memory>
#include <set>

#include <caf/all.hpp>

#include "caraway/log.hpp"
#include "caraway/node/gcs_store.hpp"
#include "groups.hpp"

namespace caraway::node {

bool gcs_state::add_actor(const wire::actor_spec& spec) {
  if (!spec.name.empty()) {
    auto key = std::make_pair(spec.ns, spec.name);
    if (names.count(key) > 0)
      return false;
    names.emplace(key, spec.id);
  }
  actor_entry entry;
  entry.info.id = spec.id;
  entry.info.class_name = spec.class_name;
  entry.info.name = spec.name;
  entry.info.ns = spec.ns;
  entry.info.state = wire::actor_state::pending;
  entry.owner = spec.owner.address();
  entry.detached = spec.detached;
  entry.info.max_task_retries = spec.max_task_retries;
  entry.spec = spec;
  actors[spec.id] = std::move(entry);
  return true;
}

bool gcs_state::lose_instance(const wire::actor_id& id,
                              const wire::error_info& why) {
  auto i = actors.find(id);
  if (i == actors.end() || i->second.info.state == wire::actor_state::dead)
    return false;
  auto& e = i->second;
  auto max = e.spec.max_restarts;
  if (max >= 0 && e.info.num_restarts >= static_cast<uint32_t>(max)) {
    auto final_why = why;
    if (max > 0)
      final_why.message += "; no restarts left (max_restarts "
                           + std::to_string(max) + ")";
    mark_dead(id, std::move(final_why));
    return false;
  }
  e.info.state = wire::actor_state::restarting;
  e.info.host = nullptr;
  e.info.death = why;
  ++e.info.num_restarts;
  e.spec.num_restarts = e.info.num_restarts;
  e.node = {};
  return true;
}

std::vector<wire::actor_id>
gcs_state::actors_on(const wire::unique_id& node) const {
  std::vector<wire::actor_id> result;
  for (auto& [id, entry] : actors)
    if (entry.node == node && entry.info.state != wire::actor_state::dead)
      result.push_back(id);
  return result;
}

bool gcs_state::mark_dead(const wire::actor_id& id, wire::error_info why) {
  auto i = actors.find(id);
  if (i == actors.end() || i->second.info.state == wire::actor_state::dead)
    return false;
  auto& info = i->second.info;
  info.state = wire::actor_state::dead;
  info.death = std::move(why);
  // A detached host's thread lasts as long as handles to it do.
  info.host = nullptr;
  if (!info.name.empty()) {
    auto j = names.find(std::make_pair(info.ns, info.name));
    if (j != names.end() && j->second == id)
      names.erase(j);
  }
  return true;
}

const gcs_state::node_entry*
gcs_state::pick_node(const wire::resource_set& req) const {
  const node_entry* first_live = nullptr;
  const node_entry* first_feasible = nullptr;
  const node_entry* best = nullptr;
  double least = 2;
  for (auto& node : nodes) {
    if (!node.raylet)
      continue;
    if (first_live == nullptr)
      first_live = &node;
    if (!req.fits_in(node.info.total))
      continue;
    if (first_feasible == nullptr)
      first_feasible = &node;
    if (!node.ready || !req.fits_in(node.info.available))
      continue;
    auto used = req.utilization(node.info.total, node.info.available);
    if (used < least) {
      least = used;
      best = &node;
    }
  }
  if (best != nullptr)
    return best;
  return first_feasible != nullptr ? first_feasible : first_live;
}

const gcs_state::node_entry* gcs_state::place(const wire::actor_spec& spec,
                                              std::string& why) {
  auto& req = spec.resources;
  auto group = wire::group_of(req);
  if (!group.nil()) {
    auto e = groups.find(group);
    if (e == nullptr || e->info.state == wire::placement_group_state::removed) {
      why = "its placement group " + to_string(group) + " was removed";
      return nullptr;
    }
  }
  if (spec.scheduling == wire::strategy::node_affinity) {
    auto where = "node " + to_string(spec.affinity_node);
    auto i = std::find_if(nodes.begin(), nodes.end(), [&](auto& n) {
      return n.info.id == spec.affinity_node && n.raylet && n.info.alive;
    });
    if (i != nodes.end() && req.fits_in(i->info.total))
      return &*i;
    why = i == nodes.end() ? where + " is dead or unknown"
                           : where + " does not have the resources the actor "
                                     "needs";
    if (!spec.affinity_soft)
      return nullptr;
  } else if (spec.scheduling == wire::strategy::spread) {
    const node_entry* first = nullptr;
    const node_entry* next = nullptr;
    for (auto& node : nodes) {
      if (!node.raylet || !node.ready || !req.fits_in(node.info.available))
        continue;
      if (first == nullptr || node.info.id < first->info.id)
        first = &node;
      if (spread_cursor < node.info.id
          && (next == nullptr || node.info.id < next->info.id))
        next = &node;
    }
    if (auto chosen = next != nullptr ? next : first) {
      spread_cursor = chosen->info.id;
      return chosen;
    }
  }
  auto result = pick_node(req);
  if (result == nullptr && why.empty())
    why = "no node to place the actor on";
  return result;
}

std::vector<wire::node_info>
gcs_state::view_rows(const std::set<wire::unique_id>& ids) const {
  std::vector<wire::node_info> result;
  for (auto& node : nodes) {
    if (ids.count(node.info.id) == 0)
      continue;
    if (!node.raylet || !node.info.alive) {
      auto row = node.info;
      row.alive = false;
      result.emplace_back(std::move(row));
    } else if (node.ready) {
      result.emplace_back(node.info);
    }
  }
  return result;
}

const gcs_state::actor_entry*
gcs_state::find_named(const std::string& ns, const std::string& name) const {
  auto i = names.find(std::make_pair(ns, name));
  if (i == names.end())
    return nullptr;
  auto j = actors.find(i->second);
  if (j == actors.end() || j->second.info.state == wire::actor_state::dead)
    return nullptr;
  return &j->second;
}

std::vector<wire::actor_id>
gcs_state::owned_by(const caf::actor_addr& owner) const {
  std::vector<wire::actor_id> result;
  for (auto& [id, entry] : actors)
    if (!entry.detached && entry.owner && entry.owner == owner
        && entry.info.state != wire::actor_state::dead)
      result.push_back(id);
  return result;
}

const gcs_state::actor_entry* gcs_state::find(const wire::actor_id& id) const {
  auto i = actors.find(id);
  return i != actors.end() ? &i->second : nullptr;
}

std::map<uint64_t, std::vector<std::string>>
gcs_state::running_libraries() const {
  std::map<uint64_t, std::vector<std::string>> result;
  for (auto& [id, job] : jobs)
    if (job.running && !job.libraries.empty())
      result.emplace(id, job.libraries);
  return result;
}

const gcs_state::node_entry* gcs_state::entry_node() const {
  const node_entry* first_live = nullptr;
  for (auto& node : nodes) {
    if (!node.raylet)
      continue;
    if (node.ready)
      return &node;
    if (first_live == nullptr)
      first_live = &node;
  }
  return first_live;
}

void gcs_state::mark_ready(const wire::unique_id& id) {
  for (auto& node : nodes)
    if (node.info.id == id)
      node.ready = true;
}

void gcs_state::write(const wire::gcs_record& row) {
  store->append(row);
  // Rewrite the snapshot once the log holds several times the live rows.
  auto live = actors.size() + nodes.size() + jobs.size() + owners.size();
  if (store->log_records() > 4096 && store->log_records() > 4 * live)
    store->compact(rows());
}

namespace {

wire::stored_node stored(const gcs_state::node_entry& node) {
  return {node.info, node.with_gcs};
}

wire::stored_job stored(uint64_t id, const gcs_state::job_entry& job) {
  return {id, job.driver, job.owner_worker, job.running, job.libraries};
}

wire::stored_actor stored(const gcs_state::actor_entry& e) {
  wire::stored_actor row{e.spec, e.info, e.node};
  row.spec.owner = nullptr;
  row.info.host = nullptr;
  // A host that has not announced itself yet is still alive, as far as
  // anyone knows.
  if (e.awaiting_host)
    row.info.state = wire::actor_state::alive;
  return row;
}

} // namespace

void gcs_state::save_actor(const wire::actor_id& id) {
  auto i = actors.find(id);
  if (store && i != actors.end())
    write(stored(i->second));
}

void gcs_state::save_node(const node_entry& node) {
  if (store)
    write(stored(node));
}

void gcs_state::save_job(uint64_t id) {
  auto i = jobs.find(id);
  if (store && i != jobs.end())
    write(stored(id, i->second));
}

void gcs_state::save_owner(uint64_t worker, bool gone) {
  if (store)
    write(wire::stored_owner{worker, gone});
}

void gcs_state::save_group(const wire::unique_id& id) {
  auto e = groups.find(id);
  if (store && e != nullptr)
    write(wire::stored_group{e->info});
}

std::vector<wire::gcs_record> gcs_state::rows() const {
  std::vector<wire::gcs_record> result;
  for (auto& node : nodes)
    result.emplace_back(stored(node));
  for (auto& [id, entry] : actors)
    result.emplace_back(stored(entry));
  for (auto& [id, job] : jobs)
    result.emplace_back(stored(id, job));
  for (auto& [worker, owner] : owners)
    result.emplace_back(wire::stored_owner{worker, false});
  for (auto worker : awaited_owners)
    result.emplace_back(wire::stored_owner{worker, false});
  for (auto& info : groups.list())
    if (info.state != wire::placement_group_state::removed)
      result.emplace_back(wire::stored_group{info});
  return result;
}

void gcs_state::restore(std::vector<wire::gcs_record> records) {
  for (auto& rec : records) {
    if (auto a = std::get_if<wire::stored_actor>(&rec)) {
      actor_entry e;
      e.info = std::move(a->info);
      e.spec = std::move(a->spec);
      e.node = a->node;
      e.detached = e.spec.detached;
      actors[e.info.id] = std::move(e);
    } else if (auto n = std::get_if<wire::stored_node>(&rec)) {
      auto i = std::find_if(nodes.begin(), nodes.end(), [&](auto& x) {
        return x.info.id == n->info.id;
      });
      if (i == nodes.end())
        i = nodes.insert(nodes.end(), node_entry{});
      i->info = std::move(n->info);
      i->with_gcs = n->with_gcs;
    } else if (auto j = std::get_if<wire::stored_job>(&rec)) {
      jobs[j->id] = job_entry{j->driver, {}, j->running,
                              std::move(j->libraries), j->owner};
      next_job = std::max(next_job, j->id + 1);
    } else if (auto o = std::get_if<wire::stored_owner>(&rec)) {
      if (o->gone)
        awaited_owners.erase(o->worker);
      else
        awaited_owners.insert(o->worker);
    } else if (auto g = std::get_if<wire::stored_group>(&rec)) {
      if (g->info.state == wire::placement_group_state::removed)
        groups.erase(g->info.id);
      else
        groups.put(std::move(g->info));
    }
  }
  // Nodes that were alive wait to rejoin; the head's own node ended with
  // it (a restarted head has a new one), so it is declared dead when the
  // time to rejoin is over, with the others that did not come back, once
  // owners are there to hear it.
  for (auto& node : nodes) {
    if (!node.info.alive)
      continue;
    node.rejoining = true;
    node.info.available = {};
  }
  for (auto& [id, e] : actors) {
    if (e.info.state == wire::actor_state::dead)
      continue;
    if (!e.info.name.empty())
      names[std::make_pair(e.info.ns, e.info.name)] = id;
    if (e.info.state == wire::actor_state::alive) {
      // Callers queue their calls until the host is back.
      e.awaiting_host = true;
      e.info.state = wire::actor_state::restarting;
    } else {
      e.needs_placing = true;
    }
  }
}

void gcs_state::adopt_owner(uint64_t worker, const caf::actor_addr& owner) {
  awaited_owners.erase(worker);
  groups.adopt(worker, owner);
  for (auto& [id, e] : actors)
    if (!e.owner && !e.detached && id.hi == worker
        && e.info.state != wire::actor_state::dead)
      e.owner = owner;
  for (auto& [id, job] : jobs) {
    if (!job.running)
      continue;
    if (!job.owner && job.owner_worker == worker) {
      job.owner = owner;
    } else if (job.owner == owner && job.owner_worker == 0) {
      // A driver announces its owner after it joined.
      job.owner_worker = worker;
      save_job(id);
    }
  }
}

namespace {

using self_ptr = gcs_impl::stateful_pointer<gcs_state>;

// How long a node may take to load libraries before the gcs goes on without
// its answer; the node logs what went wrong.
constexpr auto load_timeout = std::chrono::seconds(10);

template <class... Ts>
void publish(self_ptr self, const Ts&... xs) {
  for (auto& sub : self->state.subscribers)
    self->send(sub, wire::update_atom::value, xs...);
}

// A node's row as owners hear of it: with its raylet while it lives.
wire::raylet_actor published_raylet(const gcs_state::node_entry& node) {
  return node.info.alive ? node.raylet : wire::raylet_actor{};
}

// Names the function of the task that makes an object, from the task
// table (objects made by `put` have none).
void name_function(const gcs_state& st, wire::object_info& x) {
  if (!x.put && x.function.empty())
    if (auto task = st.tasks.find(x.id))
      x.function = task->function;
}

using objects_promise
  = caf::typed_response_promise<std::vector<wire::object_info>, uint64_t,
                                uint32_t>;

// Asks every live owner for its objects (each within `timeout`), then
// answers with the `limit` largest of them all.
objects_promise list_objects(self_ptr self, uint32_t limit,
                             std::chrono::milliseconds timeout) {
  struct gathering {
    objects_promise promise;
    std::vector<wire::object_info> objects;
    uint64_t total = 0;
    uint32_t silent = 0;
    size_t waiting = 0;
  };
  auto g = std::make_shared<gathering>();
  g->promise = self->make_response_promise<std::vector<wire::object_info>,
                                           uint64_t, uint32_t>();
  auto finish = [self, g, limit] {
    if (--g->waiting > 0)
      return;
    auto& xs = g->objects;
    auto keep = std::min<size_t>(limit, xs.size());
    std::partial_sort(xs.begin(), xs.begin() + keep, xs.end(),
                      [](const wire::object_info& x,
                         const wire::object_info& y) {
                        return x.size != y.size ? x.size > y.size
                                                : x.id < y.id;
                      });
    xs.resize(keep);
    for (auto& x : xs)
      name_function(self->state, x);
    g->promise.deliver(std::move(xs), g->total, g->silent);
  };
  // A process announces its owner once per id range it mints: ask each
  // owner once.
  std::set<caf::actor_addr> asked;
  for (auto& [worker, owner] : self->state.owners) {
    if (!owner || !asked.insert(owner.address()).second)
      continue;
    ++g->waiting;
    self->request(owner, timeout, wire::objects_atom::value, limit)
      .then(
        [g, finish](std::vector<wire::object_info>& xs, uint64_t total) {
          g->total += total;
          g->objects.insert(g->objects.end(),
                            std::make_move_iterator(xs.begin()),
                            std::make_move_iterator(xs.end()));
          finish();
        },
        [g, finish](caf::error&) {
          ++g->silent;
          finish();
        });
  }
  if (g->waiting == 0)
    g->promise.deliver(std::vector<wire::object_info>{}, uint64_t{0},
                       uint32_t{0});
  return g->promise;
}

// The raylet of node `id` while it lives, else null.
wire::raylet_actor live_raylet(self_ptr self, const wire::unique_id& id) {
  for (auto& node : self->state.nodes)
    if (node.info.id == id)
      return published_raylet(node);
  return {};
}

caf::error no_live_node_error(const wire::unique_id& id) {
  return caf::make_error(wire::errc::not_found,
                         "no live node " + wire::to_string(id));
}

// Sends the raylets the view after `delay`, unless they hear sooner.
void view_due(self_ptr self, std::chrono::milliseconds delay) {
  auto& st = self->state;
  auto due = std::chrono::steady_clock::now() + delay;
  if (st.view_scheduled && st.view_next <= due)
    return;
  st.view_scheduled = true;
  st.view_next = due;
  // Only the latest timer counts; one it replaced finds another number.
  self->delayed_send(self, delay, wire::view_atom::value, ++st.view_timer);
}

// A node's row changed: the raylets hear of it within one view period.
void view_changed(self_ptr self, const wire::unique_id& id) {
  self->state.view_dirty.insert(id);
  view_due(self, self->state.view_period);
}

// Sends a raylet that joined or came back the whole view.
void send_view(self_ptr self, const wire::raylet_actor& raylet) {
  std::set<wire::unique_id> all;
  for (auto& node : self->state.nodes)
    all.insert(node.info.id);
  auto rows = self->state.view_rows(all);
  if (!rows.empty())
    self->send(raylet, wire::view_atom::value, std::move(rows));
}

// An actor's row changed: keep it, and tell everyone.
void changed(self_ptr self, const gcs_state::actor_entry& entry) {
  self->state.save_actor(entry.info.id);
  publish(self, entry.info);
}

void changed(self_ptr self, const gcs_state::node_entry& node) {
  self->state.save_node(node);
  publish(self, node.info, published_raylet(node));
  view_changed(self, node.info.id);
}

// Places an actor on a node whose resources cover it and has that node's
// raylet make it; false (the actor dead, with the reason in `why_out` if
// given) without a node.
bool place_actor(self_ptr self, const wire::actor_id& id,
                 std::string* why_out = nullptr) {
  auto& st = self->state;
  auto& entry = st.actors[id];
  entry.needs_placing = false;
  std::string why;
  auto node = st.place(entry.spec, why);
  if (node == nullptr) {
    if (why_out != nullptr)
      *why_out = why;
    st.mark_dead(id, {wire::error_kind::actor_died, "", why});
    changed(self, entry);
    return false;
  }
  entry.node = node->info.id;
  st.save_actor(id);
  self->send(node->raylet, wire::create_atom::value, entry.spec);
  return true;
}

// The actor's instance is gone: it restarts on a live node if it may,
// else it is dead; everyone hears either way.
// Whether the actor's host runs in a worker process, not in its node's
// daemon.
bool in_worker_process(const gcs_state& st, const gcs_state::actor_entry& e) {
  for (auto& node : st.nodes)
    if (node.info.id == e.node && node.raylet)
      return e.info.host->node() != node.raylet->node();
  return false;
}

void lose_instance(self_ptr self, const wire::actor_id& id,
                   const wire::error_info& why) {
  auto& st = self->state;
  auto restarts = st.lose_instance(id, why);
  auto i = st.actors.find(id);
  if (i == st.actors.end())
    return;
  i->second.awaiting_host = false;
  changed(self, i->second);
  if (restarts) {
    CARAWAY_LOG(warning, gcs)
      << "restarting an actor" << log::kv("id", wire::to_string(id))
      << log::kv("class", i->second.info.class_name)
      << log::kv("restart", i->second.info.num_restarts)
      << log::kv("why", why.message);
    place_actor(self, id);
  }
}

} // namespace

bool kill_actor(gcs_self self, const wire::actor_id& id,
                wire::error_info why) {
  auto& st = self->state;
  auto i = st.actors.find(id);
  if (i == st.actors.end())
    return false;
  auto host = i->second.info.host;
  if (!st.mark_dead(id, std::move(why)))
    return false;
  i->second.awaiting_host = false;
  changed(self, i->second);
  if (host)
    self->send(host, wire::kill_atom::value);
  return true;
}

namespace {

// A node is dead: owners run its tasks again elsewhere, its actors restart
// elsewhere or die (also those still starting).
// `asked`: it stopped on request (`caraway stop`, a signal, a driver's own
// head), which is no warning.
void node_died(self_ptr self, gcs_state::node_entry& node,
               const std::string& why, bool asked = false) {
  if (asked) {
    CARAWAY_LOG(info, gcs) << "node stopped"
                           << log::kv("id", to_string(node.info.id))
                           << log::kv("address", node.info.address);
  } else {
    CARAWAY_LOG(warning, gcs)
      << "node died" << log::kv("id", to_string(node.info.id))
      << log::kv("address", node.info.address) << log::kv("reason", why);
  }
  node.info.alive = false;
  node.raylet = nullptr;
  node.rejoining = false;
  changed(self, node);
  auto id = node.info.id;
  for (auto& actor : self->state.actors_on(id))
    lose_instance(self, actor,
                  {wire::error_kind::actor_died, "",
                   "the actor's node " + to_string(id) + " died"});
  groups_lost_node(self, id);
}

// The process minting ids with `worker` as their high word is gone: its
// objects go from every node's store, and the actors it created (unless
// detached) and its job end with it. Without `addr` (it never came back
// after a restart of the head) its rows are found by `worker`; without
// `worker` (it announced no ids) by `addr`.
void owner_gone(self_ptr self, uint64_t worker, const caf::actor_addr& addr) {
  auto& st = self->state;
  if (worker != 0) {
    for (auto& node : st.nodes)
      if (node.raylet)
        self->send(node.raylet, wire::free_atom::value, worker);
    st.save_owner(worker, true);
  }
  // Restored actors have no owner address until their creator is back.
  auto orphans = st.owned_by(addr);
  if (!addr)
    for (auto& [id, entry] : st.actors)
      if (!entry.detached && entry.info.state != wire::actor_state::dead
          && !entry.owner && id.hi == worker)
        orphans.push_back(id);
  if (!orphans.empty())
    CARAWAY_LOG(info, gcs)
      << "the owner of actors exited; they die with it"
      << log::kv("actors", orphans.size());
  for (auto& id : orphans)
    kill_actor(self, id,
               {wire::error_kind::actor_died, "",
                "the process that created the actor exited (an actor "
                "outlives it only with lifetime(caraway::detached))"});
  groups_of_gone_owner(self, worker, addr);
  for (auto& [id, job] : st.jobs) {
    if (job.running
        && (addr ? job.owner == addr
                 : !job.owner && job.owner_worker == worker)) {
      CARAWAY_LOG(info, gcs) << "driver left" << log::kv("job", id);
      job.running = false;
      st.save_job(id);
      // Its worker processes end with it.
      for (auto& node : st.nodes)
        if (node.raylet)
          self->send(node.raylet, wire::free_atom::value, wire::job_atom::value,
                     id);
    }
  }
}

// Asks a raylet to load libraries; `done` runs once it answered or gave up.
// A library that fails to load fails only the tasks that need it.
template <class F>
void load_on(self_ptr self, const wire::raylet_actor& raylet,
             const wire::unique_id& node, uint64_t job,
             const std::vector<std::string>& paths, F done) {
  self->request(raylet, load_timeout, wire::load_atom::value, job, paths)
    .then(
      [=](std::vector<std::string>& failed) mutable {
        for (auto& why : failed)
          CARAWAY_LOG(warning, gcs)
            << "a node did not load a library"
            << log::kv("node", to_string(node)) << log::kv("why", why);
        done();
      },
      [=](caf::error& err) mutable {
        CARAWAY_LOG(warning, gcs)
          << "a node did not answer a request to load libraries"
          << log::kv("node", to_string(node))
          << log::kv("error", caf::to_string(err));
        done();
      });
}

// Has every live raylet load `paths`; `done` runs once all answered.
template <class F>
void load_everywhere(self_ptr self, uint64_t job,
                     const std::vector<std::string>& paths, F done) {
  auto& st = self->state;
  auto pending = std::make_shared<size_t>(0);
  for (auto& node : st.nodes)
    if (node.raylet)
      ++*pending;
  if (*pending == 0) {
    done();
    return;
  }
  for (auto& node : st.nodes)
    if (node.raylet)
      load_on(self, node.raylet, node.info.id, job, paths, [=]() mutable {
        if (--*pending == 0)
          done();
      });
}

// The time to come back after a restart is over: what did not come back
// counts as dead, and restored actors that were not running are placed.
void end_rejoin(self_ptr self) {
  auto& st = self->state;
  for (auto& node : st.nodes)
    if (node.rejoining)
      node_died(self, node,
                "it did not come back within the rejoin timeout after the "
                "head restarted");
  auto gone = st.awaited_owners;
  for (auto worker : gone)
    owner_gone(self, worker, caf::actor_addr{});
  st.awaited_owners.clear();
  std::vector<wire::actor_id> lost;
  std::vector<wire::actor_id> unplaced;
  for (auto& [id, entry] : st.actors) {
    if (entry.info.state == wire::actor_state::dead)
      continue;
    if (entry.awaiting_host)
      lost.push_back(id);
    else if (entry.needs_placing)
      unplaced.push_back(id);
  }
  for (auto& id : lost)
    lose_instance(self, id,
                  {wire::error_kind::actor_died, "",
                   "the actor's host did not come back after the head "
                   "restarted"});
  for (auto& id : unplaced)
    place_actor(self, id);
  place_groups(self);
  CARAWAY_LOG(info, gcs) << "the time to rejoin is over"
                         << log::kv("actors_lost", lost.size())
                         << log::kv("actors_placed", unplaced.size());
}

} // namespace

gcs_impl::behavior_type gcs(self_ptr self, gcs_config cfg) {
  auto& st0 = self->state;
  st0.store = cfg.store;
  st0.view_period = cfg.view_period;
  st0.tasks = task_table{cfg.task_table_size};
  if (st0.store) {
    st0.restore(st0.store->take_loaded());
    // The snapshot starts from what was read, in its restored form.
    st0.store->compact(st0.rows());
    size_t waiting = 0;
    for (auto& node : st0.nodes)
      waiting += node.rejoining ? 1 : 0;
    CARAWAY_LOG(info, gcs)
      << "restored the tables" << log::kv("dir", st0.store->dir())
      << log::kv("nodes_to_rejoin", waiting)
      << log::kv("actors", st0.actors.size())
      << log::kv("jobs", st0.jobs.size());
    self->delayed_send(self, cfg.rejoin_timeout, wire::retry_atom::value);
  }
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    // Ids a gone process minted have no owner any more, and their objects
    // go from every node's store; its actors and its job end with it.
    bool was_owner = false;
    for (auto i = st.owners.begin(); i != st.owners.end();) {
      if (i->second.address() != msg.source) {
        ++i;
        continue;
      }
      was_owner = true;
      auto worker = i->first;
      i = st.owners.erase(i);
      owner_gone(self, worker, msg.source);
    }
    auto& subs = st.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const wire::owner_actor& x) {
                                return x.address() == msg.source;
                              }),
               subs.end());
    if (!was_owner)
      owner_gone(self, 0, msg.source);
    for (auto& node : st.nodes) {
      if (node.raylet && node.raylet.address() == msg.source) {
        node_died(self, node, self->system().render(msg.reason),
                  msg.reason == caf::exit_reason::user_shutdown);
        return;
      }
    }
    for (auto& [id, entry] : st.actors) {
      if (entry.info.host && entry.info.host.address() == msg.source) {
        // A host in a worker process: its raylet reaps the process and
        // says why it ended (`dead_atom` with the instance).
        if (in_worker_process(st, entry))
          return;
        auto actor = id;
        lose_instance(self, actor,
                      {wire::error_kind::actor_died, "",
                       "the actor's host stopped"});
        return;
      }
    }
  });
  return {
    [=](wire::register_atom, wire::node_info& info,
        wire::raylet_actor& raylet) {
      CARAWAY_LOG(info, gcs)
        << "node joined" << log::kv("id", to_string(info.id))
        << log::kv("address", info.address);
      self->monitor(raylet);
      if (info.available.empty())
        info.available = info.total;
      auto& st = self->state;
      auto libraries = st.running_libraries();
      auto id = info.id;
      publish(self, info, raylet);
      gcs_state::node_entry entry{std::move(info), raylet, libraries.empty()};
      entry.with_gcs = raylet->node() == self->node();
      st.nodes.push_back(std::move(entry));
      st.save_node(st.nodes.back());
      send_view(self, raylet);
      view_changed(self, id);
      // Work the gcs itself sends (actors) queues behind the load at the
      // raylet; other senders wait until the node is ready.
      if (!libraries.empty()) {
        auto pending = std::make_shared<size_t>(libraries.size());
        for (auto& [job, paths] : libraries)
          load_on(self, raylet, id, job, paths, [=] {
            if (--*pending > 0)
              return;
            self->state.mark_ready(id);
            view_changed(self, id);
          });
      }
    },
    [=](wire::rejoin_atom, wire::node_info& info, wire::raylet_actor& raylet) {
      auto& st = self->state;
      auto i = std::find_if(st.nodes.begin(), st.nodes.end(), [&](auto& x) {
        return x.info.id == info.id;
      });
      // A node that never lost its place (only its connection broke and
      // came back before anyone noticed) serves on too.
      bool known_live = i != st.nodes.end() && i->raylet && i->raylet == raylet;
      if (i == st.nodes.end() || i->with_gcs
          || !(i->rejoining || known_live)) {
        CARAWAY_LOG(warning, gcs)
          << "a node declared dead (or unknown) tried to rejoin; fencing it"
          << log::kv("id", to_string(info.id))
          << log::kv("address", info.address);
        return false;
      }
      CARAWAY_LOG(info, gcs)
        << "node rejoined" << log::kv("id", to_string(info.id))
        << log::kv("address", info.address);
      if (!known_live)
        self->monitor(raylet);
      if (info.available.empty())
        info.available = info.total;
      info.alive = true;
      i->info = std::move(info);
      i->raylet = raylet;
      i->rejoining = false;
      i->ready = true;
      changed(self, *i);
      send_view(self, raylet);
      groups_rejoined_node(self, i->info.id, raylet);
      return true;
    },
    [=](wire::job_atom, const std::string& driver, wire::owner_actor& owner,
        std::vector<std::string>& libraries)
      -> caf::result<uint64_t, wire::raylet_actor, wire::unique_id> {
      auto& st = self->state;
      if (st.entry_node() == nullptr)
        return caf::make_error(wire::errc::no_live_node,
                               "the cluster has no live node");
      auto id = st.next_job++;
      self->monitor(owner);
      gcs_state::job_entry job{driver, owner.address(), true, libraries};
      for (auto& [worker, known] : st.owners)
        if (known == owner)
          job.owner_worker = worker;
      st.jobs.emplace(id, std::move(job));
      st.save_job(id);
      CARAWAY_LOG(info, gcs)
        << "driver joined" << log::kv("job", id) << log::kv("driver", driver)
        << log::kv("libraries", libraries.size());
      if (libraries.empty())
        return {id, st.entry_node()->raylet, st.entry_node()->info.id};
      // The driver learns where to send tasks only once every node loaded
      // its libraries (or gave up): no task can arrive before its code.
      // Nodes joining from now on load them as they register.
      auto promise = self->make_response_promise<uint64_t, wire::raylet_actor,
                                                  wire::unique_id>();
      load_everywhere(self, id, libraries, [=]() mutable {
        if (auto node = self->state.entry_node())
          promise.deliver(id, node->raylet, node->info.id);
        else
          promise.deliver(caf::make_error(wire::errc::no_live_node,
                                          "the cluster has no live node"));
      });
      return promise;
    },
    [=](wire::rejoin_atom, uint64_t id, const std::string& driver,
        wire::owner_actor& owner, const std::vector<std::string>&)
      -> caf::result<uint64_t, wire::raylet_actor, wire::unique_id> {
      auto& st = self->state;
      auto i = st.jobs.find(id);
      if (i == st.jobs.end() || !i->second.running)
        return caf::make_error(wire::errc::fenced,
                               "the head does not know job "
                                 + std::to_string(id)
                                 + " any more (it ended, or the head "
                                   "restarted without its --data-dir)");
      auto node = st.entry_node();
      if (node == nullptr)
        return caf::make_error(wire::errc::no_live_node,
                               "the cluster has no live node");
      if (i->second.owner != owner.address()) {
        i->second.owner = owner.address();
        self->monitor(owner);
      }
      CARAWAY_LOG(info, gcs)
        << "driver rejoined" << log::kv("job", id)
        << log::kv("driver", driver);
      return {id, node->raylet, node->info.id};
    },
    [=](wire::create_atom,
        wire::actor_spec& spec) -> caf::result<wire::actor_id> {
      auto& st = self->state;
      if (!st.add_actor(spec))
        return caf::make_error(wire::errc::name_taken,
                               "an actor named '" + spec.name
                                 + "' already exists in namespace '" + spec.ns
                                 + "'");
      // Dead (its name free again) if nothing can host it.
      std::string why;
      if (!place_actor(self, spec.id, &why))
        return caf::make_error(wire::errc::unschedulable, why);
      if (!spec.detached && spec.owner)
        self->monitor(spec.owner);
      return spec.id;
    },
    [=](wire::alive_atom, const wire::actor_id& id,
        wire::actor_host_actor& host, std::string& address, int32_t pid) {
      auto& st = self->state;
      auto i = st.actors.find(id);
      if (i == st.actors.end()
          || i->second.info.state == wire::actor_state::dead
          || (i->second.info.host && i->second.info.host != host)) {
        // Killed while its constructor ran, or a second instance (placed
        // again after a restart of the head while the first one started).
        self->send(host, wire::kill_atom::value);
        return;
      }
      auto& info = i->second.info;
      if (info.host == host && info.state == wire::actor_state::alive)
        return;
      info.state = wire::actor_state::alive;
      info.host = host;
      info.address = std::move(address);
      info.pid = pid;
      i->second.awaiting_host = false;
      i->second.needs_placing = false;
      self->monitor(host);
      changed(self, i->second);
    },
    [=](wire::dead_atom, const wire::actor_id& id, wire::error_info& why) {
      auto& st = self->state;
      if (st.mark_dead(id, std::move(why)))
        changed(self, st.actors[id]);
    },
    [=](wire::dead_atom, const wire::actor_id& id, uint32_t instance,
        wire::error_info& why) {
      auto& st = self->state;
      auto i = st.actors.find(id);
      // Only the instance that ran there: a later one may be up already.
      if (i == st.actors.end()
          || i->second.info.state == wire::actor_state::dead
          || i->second.info.num_restarts != instance)
        return;
      lose_instance(self, id, why);
    },
    [=](wire::view_atom, uint64_t timer) {
      auto& st = self->state;
      // A timer replaced by a sooner one.
      if (timer != st.view_timer)
        return;
      auto now = std::chrono::steady_clock::now();
      st.view_scheduled = false;
      // Now and then every row goes out, changed or not: a raylet counts
      // the owners it sent to a node against that node's room until it
      // hears from it again, which an idle node would never say.
      if (now - st.view_refreshed >= st.view_refresh) {
        st.view_refreshed = now;
        for (auto& node : st.nodes)
          st.view_dirty.insert(node.info.id);
      }
      auto rows = st.view_rows(st.view_dirty);
      st.view_dirty.clear();
      if (st.nodes.size() > 1)
        view_due(self, st.view_refresh);
      if (rows.empty())
        return;
      for (auto& node : st.nodes)
        if (node.raylet && node.info.alive)
          self->send(node.raylet, wire::view_atom::value, rows);
    },
    [=](wire::report_atom, wire::node_info& info) {
      for (auto& node : self->state.nodes) {
        if (node.info.id == info.id && node.raylet) {
          // Totals change too: placement group bundles add resources.
          node.info.total = std::move(info.total);
          node.info.available = std::move(info.available);
          node.info.pending_tasks = info.pending_tasks;
          node.info.object_store_used = info.object_store_used;
          view_changed(self, node.info.id);
          return;
        }
      }
      // A node declared dead (or never registered) is fenced off: its tasks
      // run elsewhere already, so it must not go on serving.
      CARAWAY_LOG(warning, gcs)
        << "a node declared dead reported; stopping it"
        << log::kv("id", to_string(info.id));
      auto sender
        = caf::actor_cast<wire::raylet_actor>(self->current_sender());
      if (sender)
        self->send(sender, wire::stop_atom::value);
    },
    [=](wire::lookup_atom, const std::string& name, const std::string& ns) {
      auto entry = self->state.find_named(ns, name);
      return entry != nullptr ? entry->info : wire::actor_info{};
    },
    [=](wire::lookup_atom, const wire::actor_id& id) {
      auto entry = self->state.find(id);
      return entry != nullptr ? entry->info : wire::actor_info{};
    },
    [=](wire::kill_atom, const wire::actor_id& id, bool no_restart) {
      auto& st = self->state;
      auto i = st.actors.find(id);
      if (!no_restart && i != st.actors.end()
          && i->second.info.state == wire::actor_state::alive
          && i->second.info.host) {
        // Its host's end makes it restart, or die without restarts left.
        self->send(i->second.info.host, wire::kill_atom::value);
        return true;
      }
      return kill_actor(self, id,
                        {wire::error_kind::actor_died, "",
                         "the actor was killed"});
    },
    [=](wire::kill_atom, const wire::actor_id& id, wire::error_info& why) {
      kill_actor(self, id, std::move(why));
    },
    [=](wire::owner_atom, uint64_t worker, wire::owner_actor& owner) {
      auto& st = self->state;
      self->monitor(owner);
      st.adopt_owner(worker, owner.address());
      if (st.owners.count(worker) == 0)
        st.save_owner(worker, false);
      st.owners[worker] = std::move(owner);
    },
    [=](wire::owner_atom, uint64_t worker) {
      auto i = self->state.owners.find(worker);
      return i != self->state.owners.end() ? i->second : wire::owner_actor{};
    },
    [=](wire::subscribe_atom, wire::owner_actor& owner) {
      // Peers learn of each other here; CAF would otherwise route their
      // messages through the head.
      for (auto& node : self->state.nodes)
        if (node.info.alive && node.raylet)
          self->send(owner, wire::update_atom::value, node.info, node.raylet);
      self->state.subscribers.emplace_back(std::move(owner));
    },
    [=](wire::group_atom, wire::create_atom, wire::placement_group_info& info,
        const wire::owner_actor& creator) -> caf::result<wire::unique_id> {
      auto& st = self->state;
      if (info.bundles.empty())
        return caf::make_error(wire::errc::invalid_request,
                               "a placement group needs at least one bundle");
      if (info.id.nil() || st.groups.find(info.id) != nullptr)
        return caf::make_error(wire::errc::invalid_request,
                               "a placement group needs a new id");
      auto id = info.id;
      auto name = info.name;
      if (!st.groups.add(std::move(info), creator.address()))
        return caf::make_error(wire::errc::name_taken,
                               "a placement group named '" + name
                                 + "' already exists");
      st.save_group(id);
      place_groups(self);
      return id;
    },
    [=](wire::group_atom, wire::lookup_atom, const wire::unique_id& id) {
      auto e = self->state.groups.find(id);
      return e != nullptr ? e->info : wire::placement_group_info{};
    },
    [=](wire::group_atom, wire::lookup_atom, const std::string& name,
        const std::string& ns) {
      auto e = self->state.groups.find_named(ns, name);
      return e != nullptr ? e->info : wire::placement_group_info{};
    },
    [=](wire::group_atom, wire::kill_atom, const wire::unique_id& id) {
      return remove_group(self, id);
    },
    [=](wire::group_atom) { return self->state.groups.list(); },
    [=](wire::events_atom, const std::vector<wire::task_info>& changes) {
      self->state.tasks.apply(changes);
    },
    [=](wire::tasks_atom) { return self->state.tasks.list(); },
    [=](wire::objects_atom, uint32_t limit) {
      return list_objects(self, limit, cfg.owner_timeout);
    },
    [=](wire::objects_atom,
        const wire::object_id& id) -> caf::result<wire::object_info> {
      auto i = self->state.owners.find(id.hi);
      if (i == self->state.owners.end() || !i->second)
        return caf::make_error(wire::errc::not_found,
                               "no live process owns object "
                                 + wire::to_string(id));
      auto promise = self->make_response_promise<wire::object_info>();
      self->request(i->second, cfg.owner_timeout, wire::objects_atom::value, id)
        .then(
          [=](wire::object_info& x) mutable {
            name_function(self->state, x);
            promise.deliver(std::move(x));
          },
          [=](caf::error& err) mutable { promise.deliver(std::move(err)); });
      return promise;
    },
    [=](wire::group_atom, wire::retry_atom) {
      self->state.groups_retry_scheduled = false;
      place_groups(self);
    },
    [=](wire::nodes_atom) {
      // From the raylets' last reports (every 50 ms while they are busy):
      // asking each raylet would make the answer wait on any silent one.
      std::vector<wire::node_info> result;
      for (auto& node : self->state.nodes)
        result.emplace_back(node.info);
      return result;
    },
    [=](wire::actors_atom) {
      std::vector<wire::actor_info> result;
      for (auto& [id, entry] : self->state.actors) {
        result.emplace_back(entry.info);
        result.back().node = entry.node;
        result.back().job = entry.spec.job;
      }
      return result;
    },
    [=](wire::jobs_atom) {
      std::map<uint64_t, std::string> result;
      for (auto& [id, job] : self->state.jobs)
        result.emplace(id,
                       job.driver + (job.running ? " running" : " finished"));
      return result;
    },
    // A node's worker processes: its raylet answers the caller directly.
    [=](wire::log_atom, const wire::unique_id& id)
      -> caf::result<std::vector<wire::worker_info>> {
      auto raylet = live_raylet(self, id);
      if (!raylet)
        return no_live_node_error(id);
      return self->delegate(raylet, wire::log_atom::value);
    },
    [=](wire::log_atom, const wire::unique_id& id, int32_t pid,
        uint32_t lines) -> caf::result<std::string, std::string> {
      auto raylet = live_raylet(self, id);
      if (!raylet)
        return no_live_node_error(id);
      return self->delegate(raylet, wire::log_atom::value, pid, lines);
    },
    [=](wire::log_atom, const wire::unique_id& id, std::string& component,
        uint32_t lines) -> caf::result<std::string> {
      auto raylet = live_raylet(self, id);
      if (!raylet)
        return no_live_node_error(id);
      return self->delegate(raylet, wire::log_atom::value, std::move(component),
                            lines);
    },
    [=](wire::stop_atom) {
      CARAWAY_LOG(info, gcs) << "stopping the cluster";
      for (auto& node : self->state.nodes)
        if (node.raylet)
          self->send(node.raylet, wire::stop_atom::value);
      return true;
    },
    [=](wire::retry_atom) { end_rejoin(self); },
  };
}

} // namespace caraway::node
