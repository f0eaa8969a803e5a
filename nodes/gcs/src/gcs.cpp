#include "caraway/node/gcs.hpp"
#include "caraway/wire/errc.hpp"

#include <algorithm>
#include <memory>

#include <caf/all.hpp>

#include "caraway/log.hpp"

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
  for (auto& node : nodes) {
    if (!node.raylet)
      continue;
    if (first_live == nullptr)
      first_live = &node;
    if (req.fits_in(node.info.total))
      return &node;
  }
  return first_live;
}

gcs_state::node_entry* gcs_state::place(const wire::resource_set& req,
                                        const wire::unique_id& asker,
                                        bool now) {
  for (auto& node : nodes) {
    if (!node.raylet || !node.ready || node.info.id == asker)
      continue;
    auto& have = now ? node.info.available : node.info.total;
    if (!req.fits_in(have))
      continue;
    if (now)
      node.info.available -= req;
    return &node;
  }
  return nullptr;
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

std::vector<std::string> gcs_state::running_libraries() const {
  std::vector<std::string> result;
  for (auto& [id, job] : jobs)
    if (job.running)
      for (auto& path : job.libraries)
        if (std::find(result.begin(), result.end(), path) == result.end())
          result.emplace_back(path);
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

namespace {

using self_ptr = wire::gcs_actor::stateful_pointer<gcs_state>;

// How long a node may take to load libraries before the gcs goes on without
// its answer; the node logs what went wrong.
constexpr auto load_timeout = std::chrono::seconds(10);

template <class Info>
void publish(self_ptr self, const Info& info) {
  for (auto& sub : self->state.subscribers)
    self->send(sub, wire::update_atom::value, info);
}

// Places an actor on a node whose resources cover it and has that node's
// raylet make it; false (the actor dead) without a node.
bool place_actor(self_ptr self, const wire::actor_id& id) {
  auto& st = self->state;
  auto& entry = st.actors[id];
  auto node = st.pick_node(entry.spec.resources);
  if (node == nullptr) {
    st.mark_dead(id, {wire::error_kind::actor_died, "",
                      "no node to place the actor on"});
    publish(self, entry.info);
    return false;
  }
  entry.node = node->info.id;
  self->send(node->raylet, wire::create_atom::value, entry.spec);
  return true;
}

// The actor's instance is gone: it restarts on a live node if it may,
// else it is dead; everyone hears either way.
void lose_instance(self_ptr self, const wire::actor_id& id,
                   const wire::error_info& why) {
  auto& st = self->state;
  auto restarts = st.lose_instance(id, why);
  auto i = st.actors.find(id);
  if (i == st.actors.end())
    return;
  publish(self, i->second.info);
  if (restarts) {
    CARAWAY_LOG(warning, gcs)
      << "restarting an actor" << log::kv("id", wire::to_string(id))
      << log::kv("class", i->second.info.class_name)
      << log::kv("restart", i->second.info.num_restarts)
      << log::kv("why", why.message);
    place_actor(self, id);
  }
}

// Marks an actor dead, tells everyone and stops its host; false if it was
// dead or unknown already.
bool kill_actor(self_ptr self, const wire::actor_id& id,
                wire::error_info why) {
  auto& st = self->state;
  auto i = st.actors.find(id);
  if (i == st.actors.end())
    return false;
  auto host = i->second.info.host;
  if (!st.mark_dead(id, std::move(why)))
    return false;
  publish(self, i->second.info);
  if (host)
    self->send(host, wire::kill_atom::value);
  return true;
}

// Asks a raylet to load libraries; `done` runs once it answered or gave up.
// A library that fails to load fails only the tasks that need it.
template <class F>
void load_on(self_ptr self, const wire::raylet_actor& raylet,
             const wire::unique_id& node, const std::vector<std::string>& paths,
             F done) {
  self->request(raylet, load_timeout, wire::load_atom::value, paths)
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
void load_everywhere(self_ptr self, const std::vector<std::string>& paths,
                     F done) {
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
      load_on(self, node.raylet, node.info.id, paths, [=]() mutable {
        if (--*pending == 0)
          done();
      });
}

} // namespace

wire::gcs_actor::behavior_type gcs(self_ptr self) {
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    // Ids a gone process minted have no owner any more, and their objects
    // go from every node's store.
    for (auto i = st.owners.begin(); i != st.owners.end();) {
      if (i->second.address() != msg.source) {
        ++i;
        continue;
      }
      for (auto& node : st.nodes)
        if (node.raylet)
          self->send(node.raylet, wire::free_atom::value, i->first);
      i = st.owners.erase(i);
    }
    auto& subs = st.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const wire::owner_actor& x) {
                                return x.address() == msg.source;
                              }),
               subs.end());
    // Actors die with the process that created them, unless detached.
    auto orphans = st.owned_by(msg.source);
    if (!orphans.empty())
      CARAWAY_LOG(info, gcs)
        << "the owner of actors exited; they die with it"
        << log::kv("actors", orphans.size());
    for (auto& id : orphans)
      kill_actor(self, id,
                 {wire::error_kind::actor_died, "",
                  "the process that created the actor exited (an actor "
                  "outlives it only with lifetime(caraway::detached))"});
    for (auto& node : st.nodes) {
      if (node.raylet && node.raylet.address() == msg.source) {
        CARAWAY_LOG(warning, gcs)
          << "node died" << log::kv("id", to_string(node.info.id))
          << log::kv("address", node.info.address)
          << log::kv("reason", self->system().render(msg.reason));
        node.info.alive = false;
        node.raylet = nullptr;
        // Owners run the node's tasks again elsewhere.
        publish(self, node.info);
        // Its actors restart elsewhere, or die, also those still starting.
        auto id = node.info.id;
        for (auto& actor : st.actors_on(id))
          lose_instance(self, actor,
                        {wire::error_kind::actor_died, "",
                         "the actor's node " + to_string(id) + " died"});
        return;
      }
    }
    for (auto& [id, job] : st.jobs) {
      if (job.running && job.owner == msg.source) {
        CARAWAY_LOG(info, gcs) << "driver left" << log::kv("job", id);
        job.running = false;
        return;
      }
    }
    for (auto& [id, entry] : st.actors) {
      if (entry.info.host && entry.info.host.address() == msg.source) {
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
      publish(self, info);
      st.nodes.push_back({std::move(info), raylet, libraries.empty()});
      // Work the gcs itself sends (actors) queues behind the load at the
      // raylet; other senders wait until the node is ready.
      if (!libraries.empty())
        load_on(self, raylet, id, libraries,
                [=] { self->state.mark_ready(id); });
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
      st.jobs.emplace(id, gcs_state::job_entry{driver, owner.address(), true,
                                               libraries});
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
      load_everywhere(self, libraries, [=]() mutable {
        if (auto node = self->state.entry_node())
          promise.deliver(id, node->raylet, node->info.id);
        else
          promise.deliver(caf::make_error(wire::errc::no_live_node,
                                          "the cluster has no live node"));
      });
      return promise;
    },
    [=](wire::create_atom,
        wire::actor_spec& spec) -> caf::result<wire::actor_id> {
      auto& st = self->state;
      if (!st.add_actor(spec))
        return caf::make_error(wire::errc::name_taken,
                               "an actor named '" + spec.name
                                 + "' already exists in namespace '" + spec.ns
                                 + "'");
      if (st.pick_node(spec.resources) == nullptr) {
        // Frees the name again.
        st.mark_dead(spec.id, {wire::error_kind::actor_died, "",
                               "no node to place the actor on"});
        return caf::make_error(wire::errc::unschedulable,
                               "no node to place the actor on");
      }
      if (!spec.detached && spec.owner)
        self->monitor(spec.owner);
      place_actor(self, spec.id);
      return spec.id;
    },
    [=](wire::alive_atom, const wire::actor_id& id,
        wire::actor_host_actor& host) {
      auto& st = self->state;
      auto i = st.actors.find(id);
      if (i == st.actors.end()
          || i->second.info.state == wire::actor_state::dead) {
        // Killed while its constructor ran.
        self->send(host, wire::kill_atom::value);
        return;
      }
      auto& info = i->second.info;
      info.state = wire::actor_state::alive;
      info.host = host;
      self->monitor(host);
      publish(self, info);
    },
    [=](wire::dead_atom, const wire::actor_id& id, wire::error_info& why) {
      auto& st = self->state;
      if (st.mark_dead(id, std::move(why)))
        publish(self, st.actors[id].info);
    },
    [=](wire::place_atom, const wire::resource_set& req,
        const wire::unique_id& asker,
        bool now) -> caf::result<wire::raylet_actor, wire::unique_id> {
      if (auto node = self->state.place(req, asker, now))
        return {node->raylet, node->info.id};
      return caf::make_error(wire::errc::unschedulable,
                             "no node has these resources");
    },
    [=](wire::report_atom, wire::node_info& info) {
      for (auto& node : self->state.nodes) {
        if (node.info.id == info.id && node.raylet) {
          node.info.available = std::move(info.available);
          node.info.pending_tasks = info.pending_tasks;
          node.info.object_store_used = info.object_store_used;
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
    [=](wire::owner_atom, uint64_t worker, wire::owner_actor& owner) {
      self->monitor(owner);
      self->state.owners[worker] = std::move(owner);
    },
    [=](wire::owner_atom, uint64_t worker) {
      auto i = self->state.owners.find(worker);
      return i != self->state.owners.end() ? i->second : wire::owner_actor{};
    },
    [=](wire::subscribe_atom, wire::owner_actor& owner) {
      // Peers learn of each other here; CAF would otherwise route their
      // messages through the head.
      for (auto& node : self->state.nodes)
        if (node.info.alive && !node.info.address.empty())
          self->send(owner, wire::update_atom::value, node.info);
      self->state.subscribers.emplace_back(std::move(owner));
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
      for (auto& [id, entry] : self->state.actors)
        result.emplace_back(entry.info);
      return result;
    },
    [=](wire::jobs_atom) {
      std::map<uint64_t, std::string> result;
      for (auto& [id, job] : self->state.jobs)
        result.emplace(id,
                       job.driver + (job.running ? " running" : " finished"));
      return result;
    },
    [=](wire::stop_atom) {
      CARAWAY_LOG(info, gcs) << "stopping the cluster";
      for (auto& node : self->state.nodes)
        if (node.raylet)
          self->send(node.raylet, wire::stop_atom::value);
      return true;
    },
  };
}

} // namespace caraway::node
