#pragma once

// The owner's dependency resolver: which tasks and actor queues wait for
// which argument objects.

#include <unordered_map>
#include <vector>

#include "caraway/wire/ids.hpp"

namespace caraway::owner {

/// Waiting tasks and actors by the object they wait for. Not thread-safe:
/// the core worker calls it under its lock. Nothing here runs callbacks:
/// the core worker asks for the waiters of an object once it is settled.
class dependency_resolver {
public:
  struct waiters {
    std::vector<wire::task_id> tasks;
    std::vector<wire::actor_id> actors;
  };

  /// Stateless task `task` waits for `object`.
  void add_task(const wire::object_id& object, const wire::task_id& task);

  /// The queue of `actor` waits for `object` at its head.
  void add_actor(const wire::object_id& object, const wire::actor_id& actor);

  /// True if anything waits for `object`.
  bool waited_for(const wire::object_id& object) const;

  /// Takes out whatever waits for `object`.
  waiters take(const wire::object_id& object);

  size_t size() const {
    return by_object_.size();
  }

private:
  std::unordered_map<wire::object_id, waiters> by_object_;
};

} // namespace caraway::owner
