#pragma once

// A gcs that records what raylets tell it, for tests of raylets and owners.

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include <caf/all.hpp>

#include "caraway/wire/errc.hpp"
#include "caraway/wire/interfaces.hpp"

namespace caraway::test {

struct gcs_log {
  /// Resource reports, in order.
  std::vector<wire::node_info> reports;
  std::vector<wire::actor_info> actors;
  /// Actor instances a raylet reported ended, with why.
  std::vector<std::tuple<wire::actor_id, uint32_t, wire::error_info>>
    lost_instances;
};

inline wire::gcs_actor::behavior_type fake_gcs(wire::gcs_actor::pointer,
                                               std::shared_ptr<gcs_log> log) {
  auto unsupported = [] {
    return caf::make_error(wire::errc::invalid_request,
                           "not supported by the fake gcs");
  };
  return {
    [](wire::register_atom, const wire::node_info&, wire::raylet_actor&) {},
    [](wire::rejoin_atom, const wire::node_info&, wire::raylet_actor&) {
      return true;
    },
    [=](wire::rejoin_atom, uint64_t, const std::string&, wire::owner_actor&,
        const std::vector<std::string>&)
      -> caf::result<uint64_t, wire::raylet_actor, wire::unique_id> {
      return unsupported();
    },
    [=](wire::job_atom, const std::string&, wire::owner_actor&,
        std::vector<std::string>&)
      -> caf::result<uint64_t, wire::raylet_actor, wire::unique_id> {
      return unsupported();
    },
    [=](wire::create_atom, wire::actor_spec&) -> caf::result<wire::actor_id> {
      return unsupported();
    },
    [=](wire::group_atom, wire::create_atom, wire::placement_group_info&,
        wire::owner_actor&) -> caf::result<wire::unique_id> {
      return unsupported();
    },
    [](wire::group_atom, wire::lookup_atom, const wire::unique_id&) {
      return wire::placement_group_info{};
    },
    [](wire::group_atom, wire::lookup_atom, const std::string&,
       const std::string&) { return wire::placement_group_info{}; },
    [](wire::group_atom, wire::kill_atom, const wire::unique_id&) {
      return false;
    },
    [](wire::group_atom) { return std::vector<wire::placement_group_info>{}; },
    [](wire::events_atom, std::vector<wire::task_info>&) {},
    [](wire::tasks_atom) { return std::vector<wire::task_info>{}; },
    [](wire::objects_atom, uint32_t)
      -> std::tuple<std::vector<wire::object_info>, uint64_t, uint32_t> {
      return {std::vector<wire::object_info>{}, 0, 0};
    },
    [](wire::objects_atom,
       const wire::object_id&) -> caf::result<wire::object_info> {
      return caf::make_error(wire::errc::not_found, "no such object");
    },
    [](wire::alive_atom, const wire::actor_id&, wire::actor_host_actor&,
       const std::string&, int32_t) {},
    [](wire::kill_atom, const wire::actor_id&, wire::error_info&) {},
    [](wire::dead_atom, const wire::actor_id&, wire::error_info&) {},
    [=](wire::dead_atom, const wire::actor_id& id, uint32_t instance,
        wire::error_info& why) {
      log->lost_instances.emplace_back(id, instance, std::move(why));
    },
    [=](wire::report_atom, wire::node_info& info) {
      log->reports.push_back(std::move(info));
    },
    [](wire::lookup_atom, const std::string&, const std::string&) {
      return wire::actor_info{};
    },
    [](wire::lookup_atom, const wire::actor_id&) { return wire::actor_info{}; },
    [](wire::kill_atom, const wire::actor_id&, bool) { return false; },
    [](wire::subscribe_atom, wire::owner_actor&) {},
    [](wire::nodes_atom) { return std::vector<wire::node_info>{}; },
    [=](wire::actors_atom) { return log->actors; },
    [](wire::jobs_atom) { return std::map<uint64_t, std::string>{}; },
    [](wire::owner_atom, uint64_t, wire::owner_actor&) {},
    [](wire::owner_atom, uint64_t) { return wire::owner_actor{}; },
    [](wire::log_atom, const wire::unique_id&) {
      return std::vector<wire::worker_info>{};
    },
    [](wire::log_atom, const wire::unique_id&, int32_t,
       uint32_t) -> caf::result<std::string, std::string> {
      return {std::string{}, std::string{}};
    },
    [](wire::log_atom, const wire::unique_id&, const std::string&, uint32_t) {
      return std::string{};
    },
    [](wire::stop_atom) { return true; },
  };
}

} // namespace caraway::test
