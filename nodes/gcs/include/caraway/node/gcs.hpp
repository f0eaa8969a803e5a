#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "caraway/node/placement.hpp"
#include "caraway/node/task_table.hpp"
#include "caraway/wire/gcs_records.hpp"
#include "caraway/wire/interfaces.hpp"

namespace caraway::node {

class gcs_store;

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
    /// Restored alive from the data dir: its host has not announced itself
    /// to this gcs yet (callers hear `restarting` meanwhile).
    bool awaiting_host = false;
    /// Restored pending or restarting: placed once nodes had their time to
    /// come back.
    bool needs_placing = false;
  };

  struct node_entry {
    wire::node_info info;
    wire::raylet_actor raylet;
    /// False while a node that joined loads the libraries of running jobs:
    /// other nodes and drivers send it no tasks meanwhile.
    bool ready = true;
    /// Restored from the data dir: alive when the head went down, its
    /// raylet not back yet.
    bool rejoining = false;
    /// Runs in the gcs' own process (the head's node).
    bool with_gcs = false;
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
    /// High word of the ids the driver's process mints.
    uint64_t owner_worker = 0;
  };

  std::map<uint64_t, job_entry> jobs;
  uint64_t next_job = 1;

  /// Where the tables are kept across restarts; null without a data dir.
  std::shared_ptr<gcs_store> store;
  /// Processes that owned ids before the head restarted and have not come
  /// back yet (the high words of their ids).
  std::set<uint64_t> awaited_owners;

  /// Writes the row's current state to the store, if there is one.
  void save_actor(const wire::actor_id& id);
  void save_node(const node_entry& node);
  void save_job(uint64_t id);
  void save_owner(uint64_t worker, bool gone);
  void save_group(const wire::unique_id& id);

  /// Appends a row to the store, rewriting the snapshot now and then.
  void write(const wire::gcs_record& row);

  /// Every row as a record: what a snapshot holds.
  std::vector<wire::gcs_record> rows() const;

  /// Takes the tables back from records a store loaded. Nodes that were
  /// alive wait to rejoin (except the gcs' own, dead now), alive actors
  /// wait for their hosts, owners for their processes.
  void restore(std::vector<wire::gcs_record> records);

  /// A process announced its owner: actors and jobs restored without one
  /// get it, and die or end with it from now on.
  void adopt_owner(uint64_t worker, const caf::actor_addr& owner);

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

  /// Where an actor goes: the least used ready node with room for `req`
  /// now (as last reported), else the first whose total covers it (it
  /// waits there), else the first node (it stays pending); null without
  /// nodes.
  const node_entry* pick_node(const wire::resource_set& req) const;

  /// Where an actor goes by its strategy: `pick_node` by default; with
  /// spread, the next node with room after the last one chosen (in id
  /// order), else `pick_node`; with a node affinity, that node if its total
  /// covers the actor, else (soft) `pick_node`, else null with the reason
  /// in `why`.
  const node_entry* place(const wire::actor_spec& spec, std::string& why);

  /// The last node a spread actor went to.
  wire::unique_id spread_cursor;

  /// The view rows of these nodes for the raylets: live ready nodes as
  /// they are, dead ones marked dead; nodes still loading libraries are
  /// left out until they are ready.
  std::vector<wire::node_info>
  view_rows(const std::set<wire::unique_id>& ids) const;

  /// Nodes whose row changed since the raylets last heard.
  std::set<wire::unique_id> view_dirty;
  bool view_scheduled = false;
  std::chrono::steady_clock::time_point view_next;
  uint64_t view_timer = 0;
  std::chrono::milliseconds view_period{100};
  /// Every row goes to the raylets this often, changed or not.
  std::chrono::milliseconds view_refresh{1000};
  std::chrono::steady_clock::time_point view_refreshed;

  /// The named actor, if it is not dead.
  const actor_entry* find_named(const std::string& ns,
                                const std::string& name) const;

  /// The live actors that die with `owner`: those it created, not detached.
  std::vector<wire::actor_id> owned_by(const caf::actor_addr& owner) const;

  /// The actor with this id, dead or alive; null if never created.
  const actor_entry* find(const wire::actor_id& id) const;

  /// The libraries of each running job that has any.
  std::map<uint64_t, std::vector<std::string>> running_libraries() const;

  /// The node whose raylet takes a new driver's tasks: the first live node
  /// that is ready, else the first live one; null without live nodes.
  const node_entry* entry_node() const;

  /// The node has loaded the libraries of running jobs.
  void mark_ready(const wire::unique_id& id);

  /// The latest tasks, as owners report them (memory only).
  task_table tasks;

  /// Placement groups (removed ones only until the head restarts).
  group_table groups;
  bool groups_retry_scheduled = false;
};

/// The gcs' own view of itself: its interface plus its timer.
using gcs_impl = wire::gcs_actor::extend<
  // The time for processes to come back after a restart is over.
  caf::reacts_to<wire::retry_atom>,
  // Time to send the raylets the rows of the view that changed (the number
  // of the timer: only the latest counts).
  caf::reacts_to<wire::view_atom, uint64_t>,
  // Time to try the pending placement groups again.
  caf::reacts_to<wire::group_atom, wire::retry_atom>>;

struct gcs_config {
  /// Keeps the tables across restarts; null: tables live in memory only.
  std::shared_ptr<gcs_store> store;
  /// After a restart, how long nodes, drivers and actor hosts that were
  /// alive have to come back before they count as dead.
  std::chrono::milliseconds rejoin_timeout{10000};
  /// How often, at most, the raylets hear of the nodes whose resource use
  /// changed.
  std::chrono::milliseconds view_period{100};
  /// How many tasks the task table keeps.
  size_t task_table_size = 10000;
  /// How long a listing of objects waits for each owner's answer: an owner
  /// that does not answer in time is left out, and counted.
  std::chrono::milliseconds owner_timeout{2000};
};

gcs_impl::behavior_type gcs(gcs_impl::stateful_pointer<gcs_state> self,
                            gcs_config cfg);

} // namespace caraway::node
