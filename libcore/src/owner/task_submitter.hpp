#pragma once

// The owner's task submitter: stateless tasks whose arguments are ready wait
// here, by resource shape, for a worker lease. A lease comes from the raylet
// of this process' node (or of the node it sends the owner on to); the
// tasks of its shape then go straight to the leased executor, in batches,
// until none are left. Ray's normal task submitter does the same.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "caraway/wire/interfaces.hpp"

namespace caraway::owner {

/// What tasks share leases by: their resources and where they may run.
struct scheduling_key {
  wire::resource_set resources;
  wire::strategy strategy = wire::strategy::hybrid;
  wire::unique_id node; // of a node affinity
  bool soft = false;
  /// Where most argument bytes are (hybrid only): leases are asked there.
  wire::unique_id locality;

  static scheduling_key of(const wire::task_spec& spec) {
    return {spec.resources, spec.scheduling, spec.affinity_node,
            spec.affinity_soft, spec.locality_node};
  }

  auto tie() const {
    return std::tie(resources, strategy, node, soft, locality);
  }

  // Every submission looks its key up a few times: the cheap fields go
  // first, and the resources are walked once, not once each way as a
  // tuple's `<` would.
  friend bool operator<(const scheduling_key& x, const scheduling_key& y) {
    if (x.strategy != y.strategy)
      return x.strategy < y.strategy;
    if (x.soft != y.soft)
      return y.soft;
    if (x.node != y.node)
      return x.node < y.node;
    if (x.locality != y.locality)
      return x.locality < y.locality;
    auto i = x.resources.begin();
    auto j = y.resources.begin();
    for (; i != x.resources.end() && j != y.resources.end(); ++i, ++j) {
      if (auto c = i->first.compare(j->first); c != 0)
        return c < 0;
      if (i->second != j->second)
        return i->second < j->second;
    }
    return i == x.resources.end() && j != y.resources.end();
  }

  friend bool operator==(const scheduling_key& x, const scheduling_key& y) {
    return x.tie() == y.tie();
  }
};

/// Not thread-safe: the owner actor alone calls it.
class task_submitter {
public:
  using clock = std::chrono::steady_clock;

  struct options {
    /// Lease requests in flight per shape, at most (Ray's default too).
    uint32_t max_pending_requests = 10;
    /// Tasks sent to one executor at once, at most: few, so that a long
    /// task delays few others.
    uint32_t max_batch = 16;
    /// An idle lease is kept this long for the next task of its shape, so
    /// that a loop of submit-then-get does not ask for a lease per task.
    std::chrono::milliseconds linger{5};
    /// A task that finds every lease of its shape busy (and no request in
    /// flight) waits this long for one of them before a new lease is asked
    /// for: in a loop of submit-then-get, the lease's `done` is on its way.
    /// Nested tasks do not wait.
    std::chrono::microseconds busy_wait{1000};
  };

  /// A lease request to send to the raylet of `node`.
  struct request {
    uint64_t token;
    scheduling_key shape;
    uint32_t depth;
    wire::unique_id node;
    bool spilled;
  };

  /// Tasks to send to a leased executor on `node`.
  struct batch {
    wire::executor_actor executor;
    uint64_t lease;
    wire::unique_id node;
    std::vector<wire::task_spec> tasks;
  };

  /// A lease to give back to the raylet of `node`.
  struct lease_return {
    wire::unique_id node;
    uint64_t lease;
  };

  struct actions {
    std::vector<request> requests;
    std::vector<batch> batches;
    std::vector<lease_return> returns;
    /// Call `resume` in a moment (`options::busy_wait`): tasks wait for a
    /// busy lease that may be done at once.
    bool recheck = false;
  };

  task_submitter() = default;

  explicit task_submitter(options opts) : opts_(opts) {
    // nop
  }

  /// The node whose raylet new requests go to.
  void local_node(const wire::unique_id& node, actions& out);

  const wire::unique_id& local_node() const {
    return local_;
  }

  /// Queues a task whose arguments are resolved.
  void submit(wire::task_spec spec, actions& out);

  /// Queues tasks an executor handed back unrun, ahead of the others.
  void hand_back(std::vector<wire::task_spec> tasks, actions& out);

  /// Sends what waits, and asks for leases again (after failed requests).
  void resume(actions& out);

  /// The raylet granted the request `token`.
  void granted(uint64_t token, wire::executor_actor executor, uint64_t lease,
               const wire::unique_id& node, actions& out);

  /// The raylet sent the request `token` on to `node`.
  void spilled(uint64_t token, const wire::unique_id& node, actions& out);

  /// The request `token` failed; `resume` asks again.
  void failed(uint64_t token);

  /// Takes a queued task out (it was cancelled); empty if it is not queued
  /// here (sent already, or unknown).
  std::optional<wire::task_spec> remove(const wire::task_id& id);

  /// No node may run what the request `token` asked for: its queued tasks
  /// come back, to fail.
  std::vector<wire::task_spec> refused(uint64_t token);

  /// The executor of `lease` ran its batch: it takes the next one, or stays
  /// idle for `linger` (a spread lease goes back at once).
  void done(uint64_t lease, clock::time_point now, actions& out);

  /// Gives back the leases idle for `linger` or longer; returns when the
  /// next one would be due (`time_point::max()` without idle leases).
  clock::time_point expire(clock::time_point now, actions& out);

  /// The node died: its leases and the requests waiting there are gone
  /// (the core worker runs the tasks they held again).
  void node_died(const wire::unique_id& node, actions& out);

  /// The executor of `lease` is gone with its worker process: the lease
  /// is forgotten (the core worker runs the tasks it held again).
  void lease_lost(uint64_t lease, actions& out);

  /// Whether `token` is a request in flight.
  bool waiting(uint64_t token) const {
    return requests_.count(token) > 0;
  }

  size_t queued() const;

  std::chrono::milliseconds linger() const {
    return opts_.linger;
  }

  std::chrono::microseconds busy_wait() const {
    return opts_.busy_wait;
  }

  size_t leases() const {
    return leases_.size();
  }

  size_t requests() const {
    return requests_.size();
  }

private:
  using key = std::pair<int64_t, uint64_t>; // deeper first, then in order

  struct shape_queue {
    std::map<key, wire::task_spec> tasks;
    uint32_t requests = 0;
    uint32_t leases = 0;
    /// Leases of the key with nothing to run, most recently idle last.
    std::vector<uint64_t> idle;
    /// Tasks waited for a busy lease once: the next `pump` asks.
    bool waited = false;
  };

  struct held_lease {
    wire::executor_actor executor;
    wire::unique_id node;
    scheduling_key shape;
    bool busy = false;
    clock::time_point idle_since;
  };

  struct pending_request {
    scheduling_key shape;
    wire::unique_id node;
  };

  void enqueue(const scheduling_key& shape, wire::task_spec spec, uint64_t seq);

  /// Sends queued tasks of `shape` to its idle leases, and asks for more
  /// leases while tasks wait.
  void pump(const scheduling_key& shape, actions& out);

  /// Sends the next batch to the idle lease `id`; false if none is queued.
  bool feed(uint64_t id, held_lease& l, actions& out);

  void ask(const scheduling_key& shape, const wire::unique_id& node,
           bool spilled, actions& out);

  /// The raylet a new request of `shape` goes to: the node holding its
  /// arguments while it lives, else the local one.
  const wire::unique_id& first_stop(const scheduling_key& shape) const;

  options opts_;
  wire::unique_id local_;
  /// Nodes declared dead: no request goes there any more.
  std::unordered_set<wire::unique_id> dead_;
  std::map<scheduling_key, shape_queue> shapes_;
  std::unordered_map<uint64_t, held_lease> leases_;
  std::unordered_map<uint64_t, pending_request> requests_;
  uint64_t next_token_ = 1;
  uint64_t next_seq_ = uint64_t{1} << 62;
  uint64_t front_seq_ = uint64_t{1} << 62;
};

} // namespace caraway::owner
