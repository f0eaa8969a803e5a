#pragma once

// An owner that accepts every message of the owner interface and records the
// results it is sent, for tests of components that talk to owners.

#include <mutex>
#include <tuple>
#include <vector>

#include <caf/all.hpp>

#include "caraway/wire/errc.hpp"
#include "caraway/wire/interfaces.hpp"

namespace caraway::test {

/// What a fake owner received.
struct owner_log {
  std::mutex mtx;
  std::vector<wire::task_result> results;
  /// Leases whose executor said it ran its batch.
  std::vector<uint64_t> done;
  /// Leases whose worker process died, with why.
  std::vector<std::pair<uint64_t, std::string>> dead_leases;
  /// Tasks a raylet asked this (worker process') owner to cancel.
  std::vector<wire::task_id> cancels;
  /// Tasks an executor handed back unrun.
  std::vector<wire::task_spec> handed_back;
  /// What it says it owns, largest first.
  std::vector<wire::object_info> objects;
  /// Never answers a listing of its objects (kept here, unanswered).
  bool silent = false;
  std::vector<caf::response_promise> unanswered;

  std::vector<wire::task_result> get() {
    std::lock_guard<std::mutex> guard{mtx};
    return results;
  }
};

inline wire::owner_actor::behavior_type
fake_owner(wire::owner_actor::pointer self, std::shared_ptr<owner_log> log) {
  return {
    [log](wire::result_atom, wire::task_result& result) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->results.push_back(std::move(result));
    },
    [](wire::update_atom, const wire::actor_info&) {},
    [](wire::update_atom, const wire::node_info&, const wire::raylet_actor&) {},
    [log](wire::done_atom, uint64_t lease) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->done.push_back(lease);
    },
    [log](wire::cancel_atom, const wire::task_id& id, bool) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->cancels.push_back(id);
    },
    [](wire::log_atom, const std::vector<std::string>&) {},
    [log](wire::dead_atom, uint64_t lease, const std::string& why) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->dead_leases.emplace_back(lease, why);
    },
    [log](wire::submit_atom, std::vector<wire::task_spec>& tasks) {
      std::lock_guard<std::mutex> guard{log->mtx};
      for (auto& spec : tasks)
        log->handed_back.push_back(std::move(spec));
    },
    [](wire::located_atom, const wire::object_id&,
       const wire::object_store_actor&) {},
    [](wire::borrow_atom, const wire::object_id&) { return false; },
    [](wire::release_atom, const wire::object_id&) {},
    [](wire::unpin_atom, const wire::object_id&) {},
    [](wire::get_atom, const wire::object_id&) { return wire::task_result{}; },
    [self, log](wire::objects_atom, uint32_t limit)
      -> caf::result<std::vector<wire::object_info>, uint64_t> {
      std::lock_guard<std::mutex> guard{log->mtx};
      if (log->silent) {
        auto promise = self->make_response_promise();
        log->unanswered.push_back(promise);
        return promise;
      }
      auto xs = log->objects;
      if (xs.size() > limit)
        xs.resize(limit);
      return {std::move(xs), uint64_t{log->objects.size()}};
    },
    [log](wire::objects_atom,
          const wire::object_id& id) -> caf::result<wire::object_info> {
      std::lock_guard<std::mutex> guard{log->mtx};
      for (auto& x : log->objects)
        if (x.id == id)
          return x;
      return caf::make_error(wire::errc::not_found, "no such object");
    },
  };
}

} // namespace caraway::test
