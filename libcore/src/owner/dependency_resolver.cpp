#include "dependency_resolver.hpp"

namespace caraway::owner {

void dependency_resolver::add_task(const wire::object_id& object,
                                   const wire::task_id& task) {
  by_object_[object].tasks.push_back(task);
}

void dependency_resolver::add_actor(const wire::object_id& object,
                                    const wire::actor_id& actor) {
  by_object_[object].actors.push_back(actor);
}

bool dependency_resolver::waited_for(const wire::object_id& object) const {
  return by_object_.count(object) > 0;
}

dependency_resolver::waiters
dependency_resolver::take(const wire::object_id& object) {
  auto i = by_object_.find(object);
  if (i == by_object_.end())
    return {};
  auto result = std::move(i->second);
  by_object_.erase(i);
  return result;
}

} // namespace caraway::owner
