#include "actor_submit_queue.hpp"

#include <algorithm>

namespace caraway::owner {

actor_entry* actor_submit_queue::find(const wire::actor_id& id) {
  auto i = actors_.find(id);
  return i != actors_.end() ? &i->second : nullptr;
}

actor_entry& actor_submit_queue::get(const wire::actor_id& id) {
  return actors_[id];
}

void actor_submit_queue::erase(const wire::actor_id& id) {
  actors_.erase(id);
}

bool actor_submit_queue::enqueue(const wire::actor_id& actor,
                                 const wire::task_id& call,
                                 wire::error_info& why) {
  auto i = actors_.find(actor);
  if (i == actors_.end()) {
    why = {wire::error_kind::actor_died, "",
           "unknown actor " + wire::to_string(actor)};
    return false;
  }
  if (i->second.state == wire::actor_state::dead) {
    why = i->second.death;
    return false;
  }
  i->second.queue.push_back(call);
  return true;
}

bool actor_submit_queue::update(const wire::actor_info& info,
                                bool accept_hosts) {
  auto& entry = actors_[info.id];
  if (entry.class_name.empty())
    entry.class_name = info.class_name;
  if (entry.state == wire::actor_state::dead)
    return false;
  entry.max_task_retries = info.max_task_retries;
  if (info.state == wire::actor_state::alive && accept_hosts) {
    entry.state = info.state;
    entry.host = info.host;
  } else if (info.state == wire::actor_state::restarting) {
    entry.state = info.state;
    entry.host = nullptr;
  }
  return true;
}

std::vector<wire::task_id>
actor_submit_queue::take_in_flight(const wire::actor_id& actor) {
  auto i = actors_.find(actor);
  if (i == actors_.end())
    return {};
  std::vector<wire::task_id> result{i->second.in_flight.begin(),
                                    i->second.in_flight.end()};
  i->second.in_flight.clear();
  // One caller's ids count up in submission order.
  std::sort(result.begin(), result.end(),
            [](const wire::task_id& x, const wire::task_id& y) {
              return x.hi != y.hi ? x.hi < y.hi : x.lo < y.lo;
            });
  return result;
}

std::vector<wire::task_id>
actor_submit_queue::kill(const wire::actor_id& actor, wire::error_info why,
                         std::vector<wire::object_id>& holds) {
  auto& entry = actors_[actor];
  if (entry.state != wire::actor_state::dead) {
    entry.state = wire::actor_state::dead;
    entry.death = std::move(why);
  }
  entry.host = nullptr;
  entry.blocked_on = {};
  std::vector<wire::task_id> victims{entry.queue.begin(), entry.queue.end()};
  victims.insert(victims.end(), entry.in_flight.begin(), entry.in_flight.end());
  entry.queue.clear();
  entry.in_flight.clear();
  holds.insert(holds.end(), entry.holds.begin(), entry.holds.end());
  entry.holds.clear();
  return victims;
}

void actor_submit_queue::finished(const wire::actor_id& actor,
                                  const wire::task_id& call) {
  auto i = actors_.find(actor);
  if (i != actors_.end())
    i->second.in_flight.erase(call);
}

void actor_submit_queue::drop_hosts() {
  for (auto& kvp : actors_)
    kvp.second.host = nullptr;
}

} // namespace caraway::owner
