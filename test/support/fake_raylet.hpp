#pragma once

// A raylet that grants every lease at once on an executor of the test's
// choice (or keeps the request unanswered without one), and an executor
// that keeps every batch, for tests of whoever submits to them.

#include <memory>
#include <optional>
#include <utility>
#include <tuple>
#include <vector>

#include <caf/all.hpp>

#include "caraway/wire/interfaces.hpp"

namespace caraway::test {

struct raylet_log {
  /// Lease requests: shape, depth, worker, spilled.
  std::vector<std::tuple<wire::resource_set, uint32_t, uint64_t, bool>>
    requests;
  /// Grants leases on this executor (node id `node`); null: requests wait
  /// unanswered in `waiting`.
  wire::executor_actor executor;
  std::vector<caf::typed_response_promise<wire::executor_actor, uint64_t,
                                          wire::unique_id, std::string>>
    waiting;
  wire::unique_id node{1, 1};
  uint64_t next_lease = 100;
  std::vector<uint64_t> blocked;
  std::vector<uint64_t> done;
  /// Owners whose work and objects the raylet was told to drop.
  std::vector<uint64_t> freed;
  /// Reserves every placement group bundle it is asked for.
  bool reserve_bundles = false;
  /// Placement groups it was told were removed.
  std::vector<wire::unique_id> removed_groups;
  /// The bundles a restarted head told it to keep, once it did.
  std::optional<std::vector<std::pair<wire::unique_id, uint32_t>>> kept;
};

inline wire::raylet_actor::behavior_type
fake_raylet(wire::raylet_actor::pointer self,
            std::shared_ptr<raylet_log> log) {
  return {
    [=](wire::lease_atom, const wire::resource_set& shape, uint32_t depth,
        uint64_t worker, bool spilled, uint8_t, const wire::unique_id&, bool,
        uint64_t) -> caf::result<wire::executor_actor, uint64_t,
                                 wire::unique_id, std::string> {
      log->requests.emplace_back(shape, depth, worker, spilled);
      if (!log->executor) {
        auto promise
          = self->make_response_promise<wire::executor_actor, uint64_t,
                                        wire::unique_id, std::string>();
        log->waiting.push_back(promise);
        return promise;
      }
      return {log->executor, log->next_lease++, log->node, std::string{}};
    },
    [=](wire::done_atom, uint64_t lease) { log->done.push_back(lease); },
    [](wire::view_atom, std::vector<wire::node_info>&) {},
    [](wire::cancel_atom, const wire::task_id&, bool) {},
    [=](wire::blocked_atom, uint64_t lease) { log->blocked.push_back(lease); },
    [](wire::unblocked_atom, uint64_t) {},
    [](wire::create_atom, wire::actor_spec&) {},
    [=](wire::group_atom, wire::prepare_atom, const wire::unique_id&, uint32_t,
        const wire::resource_set&) { return log->reserve_bundles; },
    [=](wire::group_atom, wire::commit_atom, const wire::unique_id&, uint32_t) {
      return log->reserve_bundles;
    },
    [](wire::group_atom, wire::free_atom, const wire::unique_id&, uint32_t) {},
    [=](wire::group_atom, wire::kill_atom, const wire::unique_id& group) {
      log->removed_groups.push_back(group);
    },
    [=](wire::group_atom, wire::rejoin_atom,
        const std::vector<wire::unique_id>& groups,
        const std::vector<uint32_t>& indices) {
      log->kept.emplace();
      for (size_t i = 0; i < groups.size() && i < indices.size(); ++i)
        log->kept->emplace_back(groups[i], indices[i]);
    },
    [](wire::status_atom) { return wire::node_info{}; },
    [](wire::metrics_atom, int32_t, const std::vector<wire::metric_sample>&) {},
    [](wire::metrics_atom) { return std::vector<wire::metric_sample>{}; },
    [](wire::stop_atom) {},
    [=](wire::free_atom, uint64_t worker) { log->freed.push_back(worker); },
    [](wire::load_atom, uint64_t, const std::vector<std::string>&) {
      return std::vector<std::string>{};
    },
    [](wire::free_atom, wire::job_atom, uint64_t) {},
    [](wire::get_atom) { return wire::object_store_actor{}; },
    [](wire::log_atom) { return std::vector<wire::worker_info>{}; },
    [](wire::log_atom, int32_t,
       uint32_t) -> caf::result<std::string, std::string> {
      return {std::string{}, std::string{}};
    },
    [](wire::log_atom, const std::string&, uint32_t) { return std::string{}; },
    [](wire::register_atom, uint64_t, wire::executor_actor&, int32_t,
       const std::string&) {},
  };
}

struct executor_log {
  /// Each batch with its lease.
  std::vector<std::pair<std::vector<wire::task_spec>, uint64_t>> batches;
  /// Each actor it was asked to host, with its lease.
  std::vector<std::pair<wire::actor_spec, uint64_t>> actors;
  /// Requests to end its process, and the answer to give.
  size_t stop_requests = 0;
  bool agree_to_stop = true;
  /// Orders to end because the job ended.
  size_t job_ended = 0;
};

inline wire::executor_actor::behavior_type
fake_executor(wire::executor_actor::pointer,
              std::shared_ptr<executor_log> log) {
  return {
    [=](wire::execute_atom, std::vector<wire::task_spec>& batch,
        uint64_t lease) { log->batches.emplace_back(std::move(batch), lease); },
    [=](wire::create_atom, wire::actor_spec& spec, uint64_t lease) {
      log->actors.emplace_back(std::move(spec), lease);
    },
    [=](wire::stop_atom) {
      ++log->stop_requests;
      return log->agree_to_stop;
    },
    [=](wire::stop_atom, wire::job_atom) { ++log->job_ended; },
  };
}

} // namespace caraway::test
