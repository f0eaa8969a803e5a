#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "caraway/wire/interfaces.hpp"

namespace caraway::node {

/// The cluster's tables; pure logic, no messaging.
struct gcs_state {
  static inline const char* name = "caraway.gcs";

  struct actor_entry {
    wire::actor_info info;
    /// The process that created it; a non-detached actor dies with it.
    caf::actor_addr owner;
    bool detached = false;
    /// What made it, to make it again after a failure.
    wire::actor_spec spec;
    /// The node it was placed on (for the current instance).
    wire::unique_id node;
  };

  struct node_entry {
    wire::node_info info;
    wire::raylet_actor raylet;
    /// False while a node that joined loads the libraries of running jobs:
    /// other nodes and drivers send it no tasks meanwhile.
    bool ready = true;
  };

  std::unordered_map<wire::actor_id, actor_entry> actors;
  std::map<std::pair<std::string, std::string>, wire::actor_id> names;
  std::vector<node_entry> nodes;
  std::vector<wire::owner_actor> subscribers;
  /// Owner of each process, by the high word of the ids it mints.
  std::unordered_map<uint64_t, wire::owner_actor> owners;
  struct job_entry {
    std::string driver;
    caf::actor_addr owner;
    bool running = true;
    /// Shared libraries with the job's user code, which every node loads.
    std::vector<std::string> libraries;
  };

  std::map<uint64_t, job_entry> jobs;
  uint64_t next_job = 1;

  /// Registers a new actor; false when its name is taken.
  bool add_actor(const wire::actor_spec& spec);

  /// The actor's instance is gone (`why`): true, with the actor
  /// `restarting` and its restart counted, if it has restarts left; false
  /// if it is dead now (or was, or is unknown).
  bool lose_instance(const wire::actor_id& id, const wire::error_info& why);

  /// Live actors placed on `node`.
  std::vector<wire::actor_id> actors_on(const wire::unique_id& node) const;

  /// Marks an actor dead and frees its name; false if already dead/unknown.
  bool mark_dead(const wire::actor_id& id, wire::error_info why);

  /// The first node whose total resources cover `req`; the first node if
  /// none does (it keeps the work pending); null without nodes.
  const node_entry* pick_node(const wire::resource_set& req) const;

  /// A live, ready node other than `asker` whose total resources cover
  /// `req`, or with `now` one whose last reported free resources do (then
  /// counted as taken until its next report).
  node_entry* place(const wire::resource_set& req,
                    const wire::unique_id& asker, bool now);

  /// The named actor, if it is not dead.
  const actor_entry* find_named(const std::string& ns,
                                const std::string& name) const;

  /// The live actors that die with `owner`: those it created, not detached.
  std::vector<wire::actor_id> owned_by(const caf::actor_addr& owner) const;

  /// The actor with this id, dead or alive; null if never created.
  const actor_entry* find(const wire::actor_id& id) const;

  /// The libraries of running jobs, each once, in the order of the jobs.
  std::vector<std::string> running_libraries() const;

  /// The node whose raylet takes a new driver's tasks: the first live node
  /// that is ready, else the first live one; null without live nodes.
  const node_entry* entry_node() const;

  /// The node has loaded the libraries of running jobs.
  void mark_ready(const wire::unique_id& id);
};

wire::gcs_actor::behavior_type
gcs(wire::gcs_actor::stateful_pointer<gcs_state> self);

} // namespace caraway::node
