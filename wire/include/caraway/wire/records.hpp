#pragma once

// Control-plane records as plain structs. Inside a process they travel in CAF
// messages as they are; across processes the bridge (bridge.hpp) turns them
// into the Protobuf messages of proto/caraway.proto.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <type_traits>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include "caraway/wire/buffer.hpp"
#include "caraway/wire/handles.hpp"
#include "caraway/wire/ids.hpp"
#include "caraway/wire/resource_set.hpp"

namespace caraway::wire {


/// What went wrong with a task, an actor or an object.
enum class error_kind : uint8_t {
  none = 0,
  task_failed,      // the user's code threw
  actor_died,       // constructor threw, killed, or its node died
  object_lost,      // every copy of the object is gone
  owner_died,       // the process owning the object is gone
  node_died,        // the node running the task died
  cancelled,        // cancelled by the user
  function_missing, // no function or method registered under that name
  invalid_argument, // arguments could not be decoded
  shutting_down,    // the runtime is stopping
  unschedulable,    // no node may run it (e.g. its hard node affinity)
  worker_died,      // the worker process running it crashed or was killed
};

/// Where a task may run.
enum class strategy : uint8_t {
  hybrid = 0,    // pack onto a node up to the spread threshold, then spread
  spread,        // over the nodes with room, one after another
  node_affinity, // on `affinity_node` (soft: elsewhere if it cannot)
};

struct error_info {
  error_info() = default;

  error_info(error_kind kind, std::string type_name, std::string message,
             object_id object = {})
    : kind(kind),
      type_name(std::move(type_name)),
      message(std::move(message)),
      object(object) {
    // nop
  }

  error_kind kind = error_kind::none;
  std::string type_name; // type of the original exception, if any
  std::string message;
  object_id object;      // object_lost: the object that could not be read
};

/// One argument of a task: a value, or a reference resolved before the run.
struct task_arg {
  bool is_ref = false;
  object_id ref;      // set when is_ref
  buffer_ptr value;   // the serialized value, once known
  bool in_store = false; // value lives in the node's object store
  /// Data address of a store that holds the value; across processes the
  /// value then stays behind and the reader pulls it from there.
  std::string location;
};

/// Everything needed to run a task or an actor method once.
struct task_spec {
  task_id id;                 // also the id of the return object
  actor_id actor;             // nil for a stateless task
  std::string function;       // registered function or method name
  std::vector<task_arg> args;
  resource_set resources;     // needed while running (stateless tasks)
  uint32_t depth = 0;         // nesting level: driver submissions are 0
  int32_t max_retries = 0;    // re-runs after a failure; -1: no limit
  bool retry_exceptions = false;
  strategy scheduling = strategy::hybrid;
  unique_id affinity_node;    // for strategy::node_affinity
  bool affinity_soft = false; // may run elsewhere if that node cannot
  /// The node holding most bytes of the arguments (hybrid strategy only):
  /// the owner asks its raylet for a lease first. Nil when no node stands
  /// out.
  unique_id locality_node;
  uint32_t attempt = 0;       // 0 for the first run, +1 per retry
  std::string ns;             // namespace of the submitting job
  owner_actor owner;          // receives the result
};

/// How a task ended.
struct task_result {
  task_id id;
  error_info error;           // kind none on success
  buffer_ptr value;           // the serialized return value on success
  bool in_store = false;      // value was stored in the node's object store
  std::vector<object_id> contained; // refs nested inside the value
  /// Data address of the store holding the value (in_store only); across
  /// processes the value then stays behind.
  std::string location;
  object_store_actor store;   // that store's actor, told when to free it
  /// Owner of the process that sent the result; it keeps the refs in
  /// `contained` alive until the receiver borrowed them.
  owner_actor sender;
  uint32_t attempt = 0;       // of the task spec that produced it
  /// Nonzero on the last result of a batch: the executor holding this lease
  /// is free for the next batch (saves a `done` message per batch).
  uint64_t lease_done = 0;
  /// Bytes of the value (in_store only), which then stays behind: the
  /// owner weighs where a task's arguments are by it.
  uint64_t size = 0;
  /// When the task started and ended running (ns since the epoch; 0 if it
  /// did not run), and the process it ran in: for the task table and
  /// `caraway timeline`.
  int64_t started_ns = 0;
  int64_t ran_until_ns = 0;
  int32_t pid = 0;
};

/// Everything needed to create an actor.
struct actor_spec {
  actor_id id;
  std::string class_name;
  std::string name;           // empty for an anonymous actor
  std::string ns;             // namespace of the name
  std::vector<std::string> ctor_key; // argument types picking the constructor
  std::vector<task_arg> args; // constructor arguments
  resource_set resources;     // held for the actor's lifetime
  uint32_t max_concurrency = 1;
  bool detached = false;      // lives on after its owner is gone
  int32_t max_restarts = 0;   // made again after a failure; -1: no limit
  int32_t max_task_retries = 0; // calls in flight then sent again; -1: no limit
  uint32_t num_restarts = 0;  // 0 for the first instance
  strategy scheduling = strategy::hybrid; // where the gcs places it
  unique_id affinity_node;    // for strategy::node_affinity
  bool affinity_soft = false; // may run elsewhere if that node cannot
  owner_actor owner;          // the creating process
  uint64_t job = 0;           // whose code it runs (0: none known)
};

enum class actor_state : uint8_t { pending = 0, alive, dead, restarting };

/// The gcs' view of one actor.
struct actor_info {
  actor_id id;
  std::string class_name;
  std::string name;
  std::string ns;
  actor_state state = actor_state::pending;
  actor_host_actor host;      // where method calls go while alive
  // host:port where the host's process listens, for callers to connect to
  // it directly (a worker process); empty in a node daemon.
  std::string address;
  error_info death;           // why it died, or why it last restarted
  uint32_t num_restarts = 0;
  int32_t max_task_retries = 0;
  unique_id node;             // where it was placed (nil while pending)
  uint64_t job = 0;           // the job that made it
  int32_t pid = 0;            // its host's process, once alive
};

/// A node as the gcs sees it.
struct node_info {
  unique_id id;
  std::string address;        // host:port, empty for an embedded node
  resource_set total;
  resource_set available;
  uint64_t pending_tasks = 0;
  uint64_t object_store_used = 0;
  uint64_t object_store_capacity = 0;
  bool alive = true;
};

/// How a placement group's bundles go onto nodes.
enum class placement_strategy : uint8_t {
  pack = 0,      // as few nodes as possible
  spread,        // as many nodes as possible
  strict_pack,   // one node, or not at all
  strict_spread, // one node per bundle, or not at all
};

enum class placement_group_state : uint8_t {
  pending = 0,   // waiting for room to reserve every bundle
  created,       // every bundle reserved on its node
  removed,       // given back
  rescheduling,  // a node with bundles died: they are placed again
};

/// A placement group as the gcs keeps it.
struct placement_group_info {
  unique_id id;
  std::string name;           // empty for an anonymous group
  std::string ns;             // namespace of the name
  placement_strategy strategy = placement_strategy::pack;
  std::vector<resource_set> bundles;
  /// The node of each bundle, once reserved (nil while not).
  std::vector<unique_id> nodes;
  placement_group_state state = placement_group_state::pending;
  /// Why it is still pending, when nothing could place it.
  std::string why;
};

/// Pending: waiting for its arguments. Scheduled: queued for a worker, or
/// sent to one (on `node`). Running: its worker said it started (a task
/// still running at the worker's next report). (Wire values in this order.)
enum class task_state : uint8_t { pending, scheduled, finished, failed, running };

/// A task in the gcs' task table (what `caraway list tasks` shows), and a
/// change to one as its owner reports it: fields left empty (or 0) are
/// unchanged.
struct task_info {
  task_id id;
  std::string function;
  task_state state = task_state::pending;
  unique_id node;
  std::string error;
  int64_t submitted_ns = 0;
  int64_t scheduled_ns = 0;
  int64_t ended_ns = 0;
  uint32_t attempts = 0;
  /// When its last attempt started and stopped running, and in which
  /// process (0 if unknown: not run yet, or an embedded cluster's).
  int64_t started_ns = 0;
  int64_t ran_until_ns = 0;
  int32_t pid = 0;
};

enum class object_state : uint8_t { pending, ready, failed };

/// An object as its owner describes it (`caraway list objects`).
struct object_info {
  object_id id;
  object_state state = object_state::pending;
  /// Bytes of the value (0 while pending or unknown).
  uint64_t size = 0;
  /// The owner process: its job (0 for a node's own), pid and node (the
  /// node it runs on, or a driver's node it submits to).
  uint64_t job = 0;
  int32_t pid = 0;
  unique_id owner_node;
  /// Where the value is: in a store of `node` (the owner's node, or
  /// another's that ran its task), else in the owner's process; and how
  /// many more copies other nodes' stores pulled.
  bool in_store = false;
  unique_id node;
  uint32_t copies = 0;
  /// Made by `put`; otherwise by a task, whose function the gcs names from
  /// its task table (empty when it has no row for it any more).
  bool put = false;
  std::string function;
  std::string error;
  /// Its holders by kind: refs in the owner's process, tasks it submitted
  /// that take it, objects that contain it, and other processes.
  int64_t local_refs = 0;
  int64_t submitted_refs = 0;
  int64_t contained_refs = 0;
  int64_t borrowers = 0;
};

enum class metric_kind : uint8_t { counter, gauge, histogram };

/// One series of a metric a process recorded: a counter's total, a gauge's
/// value, or a histogram's buckets.
struct metric_sample {
  std::string name;
  std::string help;
  metric_kind kind = metric_kind::gauge;
  /// Tags, by key.
  std::vector<std::pair<std::string, std::string>> labels;
  /// A counter's or gauge's value.
  double value = 0;
  /// A histogram: the upper bounds of its buckets, ascending; how many
  /// values fell in each (one more, past the last bound); their sum.
  std::vector<double> bounds;
  std::vector<uint64_t> buckets;
  double sum = 0;
};

/// A worker process of a node, running or ended, and its output files.
struct worker_info {
  int32_t pid = 0;
  uint64_t job = 0;
  bool alive = false;
  /// The files' path without ".out" and ".err".
  std::string log;
  uint64_t out_bytes = 0;
  uint64_t err_bytes = 0;
};

/// The resources tasks in bundle `index` of group `group` use, named after
/// it as Ray names them: for each resource R, "R_group_<group>" (any bundle
/// of the group) and, unless the index is negative, "R_group_<index>_<group>"
/// (that bundle), plus a tiny "bundle" share that only the group's nodes
/// have.
resource_set bundle_shape(const resource_set& shape, const unique_id& group,
                          int64_t index);

/// What a reserved bundle adds to its node: both names above for each of
/// its resources, and 1000 of "bundle_group_<index>_<group>" and
/// "bundle_group_<group>".
resource_set bundle_supply(const resource_set& bundle, const unique_id& group,
                           int64_t index);

/// The placement group a shape made by `bundle_shape` draws on; nil for a
/// shape outside any group.
unique_id group_of(const resource_set& shape);

// Implemented by the bridge (src/bridge.cpp) through Protobuf.
#define CARAWAY_WIRE_RECORD(type)                                             \
  caf::error inspect(caf::serializer& f, type& x);                             \
  caf::error inspect(caf::deserializer& f, type& x);                           \
  template <class Inspector>                                                   \
  std::enable_if_t<!std::is_base_of<caf::serializer, Inspector>::value         \
                     && !std::is_base_of<caf::deserializer, Inspector>::value, \
                   typename Inspector::result_type>                            \
  inspect(Inspector& f, type&) {                                               \
    return f(caf::meta::type_name(#type));                                     \
  }

CARAWAY_WIRE_RECORD(error_info)
CARAWAY_WIRE_RECORD(task_spec)
CARAWAY_WIRE_RECORD(task_result)
CARAWAY_WIRE_RECORD(actor_spec)
CARAWAY_WIRE_RECORD(actor_info)
CARAWAY_WIRE_RECORD(node_info)
CARAWAY_WIRE_RECORD(placement_group_info)
CARAWAY_WIRE_RECORD(task_info)
CARAWAY_WIRE_RECORD(worker_info)
CARAWAY_WIRE_RECORD(object_info)
CARAWAY_WIRE_RECORD(metric_sample)

#undef CARAWAY_WIRE_RECORD

} // namespace caraway::wire
