#pragma once

// The owner's actor submit queue: calls to each actor in the order this
// process made them, held back while the actor is pending or the call at
// the head waits for an argument.

#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "caraway/wire/ids.hpp"
#include "caraway/wire/interfaces.hpp"

namespace caraway::owner {

/// What this process knows of one actor and its calls.
struct actor_entry {
  std::string class_name;
  wire::actor_state state = wire::actor_state::pending;
  /// Where calls go while alive.
  wire::actor_host_actor host;
  /// Why it died, once dead.
  wire::error_info death;
  /// Calls not yet sent, in submission order.
  std::deque<wire::task_id> queue;
  /// Calls sent and not yet answered.
  std::unordered_set<wire::task_id> in_flight;
  /// The argument the call at the head of the queue waits for, if any.
  wire::object_id blocked_on;
  /// Refs in the constructor's arguments, held until it ran (or, for an
  /// actor that may restart, until it is dead).
  std::vector<wire::object_id> holds;
  /// Set by the process that created it.
  int32_t max_restarts = 0;
  /// How often a call in flight is sent again after a restart (-1: no
  /// limit), as the gcs says.
  int32_t max_task_retries = 0;
  /// Set by the process that created it: it outlives its handles.
  bool detached = false;
  /// Its creator's last handle (and every borrower's) is gone: it ends once
  /// its calls are answered.
  bool out_of_scope = false;

  /// Nothing queued or in flight.
  bool idle() const {
    return queue.empty() && in_flight.empty();
  }
};

/// Actors and their queues. Not thread-safe: the core worker calls it under
/// its lock. Calls of one caller reach an actor in order because the queue
/// sends only from its head and the host runs calls in arrival order.
class actor_submit_queue {
public:
  /// Null if the actor is unknown here.
  actor_entry* find(const wire::actor_id& id);

  /// The entry, made if needed.
  actor_entry& get(const wire::actor_id& id);

  void erase(const wire::actor_id& id);

  /// Queues a call; false (and nothing queued) if the actor is unknown or
  /// dead, with the reason in `why`.
  bool enqueue(const wire::actor_id& actor, const wire::task_id& call,
               wire::error_info& why);

  /// Records a new state from the gcs. Death is final: later news of a dead
  /// actor is ignored. A host is taken only while `accept_hosts`: after
  /// shutdown began, a strong handle would keep the host alive. Returns
  /// false when the update was ignored.
  bool update(const wire::actor_info& info, bool accept_hosts);

  /// The actor died: returns its queued and sent calls (to fail) and moves
  /// its constructor holds to `holds`.
  std::vector<wire::task_id> kill(const wire::actor_id& actor,
                                  wire::error_info why,
                                  std::vector<wire::object_id>& holds);

  /// The actor restarts: its sent calls, in submission order, are no longer
  /// in flight (to send again or fail).
  std::vector<wire::task_id> take_in_flight(const wire::actor_id& actor);

  /// A sent call is answered (or failed).
  void finished(const wire::actor_id& actor, const wire::task_id& call);

  /// Drops every host handle (shutdown).
  void drop_hosts();

  size_t size() const {
    return actors_.size();
  }

private:
  std::unordered_map<wire::actor_id, actor_entry> actors_;
};

} // namespace caraway::owner
