#pragma once

// A raylet that keeps every task it is sent, and an executor that keeps
// every batch, for tests of whoever submits to them.

#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "caraway/wire/interfaces.hpp"

namespace caraway::test {

struct raylet_log {
  std::vector<wire::task_spec> submitted;
  std::vector<uint64_t> blocked;
  std::vector<uint64_t> done;
  /// Owners whose work and objects the raylet was told to drop.
  std::vector<uint64_t> freed;
};

inline wire::raylet_actor::behavior_type
fake_raylet(wire::raylet_actor::pointer, std::shared_ptr<raylet_log> log) {
  return {
    [=](wire::submit_atom, wire::task_spec& spec) {
      log->submitted.push_back(std::move(spec));
    },
    [=](wire::done_atom, uint64_t lease) { log->done.push_back(lease); },
    [=](wire::blocked_atom, uint64_t lease) { log->blocked.push_back(lease); },
    [](wire::unblocked_atom, uint64_t) {},
    [](wire::create_atom, wire::actor_spec&) {},
    [](wire::status_atom) { return wire::node_info{}; },
    [](wire::stop_atom) {},
    [=](wire::free_atom, uint64_t worker) { log->freed.push_back(worker); },
    [](wire::load_atom, const std::vector<std::string>&) {
      return std::vector<std::string>{};
    },
  };
}

struct executor_log {
  /// Each batch with its lease.
  std::vector<std::pair<std::vector<wire::task_spec>, uint64_t>> batches;
};

inline wire::executor_actor::behavior_type
fake_executor(wire::executor_actor::pointer,
              std::shared_ptr<executor_log> log) {
  return {
    [=](wire::execute_atom, std::vector<wire::task_spec>& batch,
        uint64_t lease) { log->batches.emplace_back(std::move(batch), lease); },
  };
}

} // namespace caraway::test
