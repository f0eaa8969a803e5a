#pragma once

// An owner that accepts every message of the owner interface and records the
// results it is sent, for tests of components that talk to owners.

#include <mutex>
#include <tuple>
#include <vector>

#include <caf/all.hpp>

#include "caraway/wire/interfaces.hpp"

namespace caraway::test {

/// What a fake owner received.
struct owner_log {
  std::mutex mtx;
  std::vector<wire::task_result> results;
  /// Tasks a raylet sent on: task, attempt, node.
  std::vector<std::tuple<wire::task_id, uint32_t, wire::unique_id>> moves;

  std::vector<wire::task_result> get() {
    std::lock_guard<std::mutex> guard{mtx};
    return results;
  }
};

inline wire::owner_actor::behavior_type
fake_owner(wire::owner_actor::pointer, std::shared_ptr<owner_log> log) {
  return {
    [log](wire::result_atom, wire::task_result& result) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->results.push_back(std::move(result));
    },
    [](wire::update_atom, const wire::actor_info&) {},
    [](wire::update_atom, const wire::node_info&) {},
    [log](wire::moved_atom, const wire::task_id& id, uint32_t attempt,
          const wire::unique_id& node) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->moves.emplace_back(id, attempt, node);
    },
    [](wire::located_atom, const wire::object_id&,
       const wire::object_store_actor&) {},
    [](wire::borrow_atom, const wire::object_id&) { return false; },
    [](wire::release_atom, const wire::object_id&) {},
    [](wire::unpin_atom, const wire::object_id&) {},
    [](wire::get_atom, const wire::object_id&) { return wire::task_result{}; },
  };
}

} // namespace caraway::test
