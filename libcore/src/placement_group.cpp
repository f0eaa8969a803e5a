// Placement groups on the user's side: handles, and the calls that reach
// the gcs through the core worker.

#include "caraway/placement_group.hpp"

#include <cmath>

#include "caraway/error.hpp"
#include "caraway/api.hpp"
#include "caraway/task.hpp"
#include "current_core.hpp"
#include "caraway/wire/names.hpp"
#include "owner/core_worker.hpp"

// Runs in a group's bundles once they are reserved: `ready` waits for it.
void caraway_placement_group_ready() {}

CARAWAY_REMOTE(caraway_placement_group_ready)

namespace caraway {

struct placement_group_access {
  static placement_group_handle make(const wire::placement_group_info& info) {
    placement_group_handle result;
    result.id_ = wire::to_string(info.id);
    result.name_ = info.name;
    result.strategy_ = static_cast<caraway::strategy>(info.strategy);
    for (auto& b : info.bundles)
      result.bundles_.emplace_back(b.begin(), b.end());
    return result;
  }
};

namespace {

wire::unique_id id_of(const placement_group_handle& group) {
  wire::unique_id id;
  if (!group.valid() || !wire::from_string(group.id(), id))
    throw invalid_argument_error("not a placement group: '" + group.id()
                                 + "'");
  return id;
}

wire::placement_group_info info_of(const placement_group_handle& group) {
  auto info = core::require_core().group(id_of(group));
  if (info.id.nil())
    throw invalid_argument_error("no placement group " + group.id());
  return info;
}

} // namespace

// The public enums have the wire's values (see `remote` and `state`).
std::string to_string(strategy x) {
  return wire::name_of(static_cast<wire::placement_strategy>(x));
}

std::string to_string(placement_group_state x) {
  return wire::name_of(static_cast<wire::placement_group_state>(x));
}

placement_group_state placement_group_handle::state() const {
  return static_cast<placement_group_state>(info_of(*this).state);
}

std::vector<std::string> placement_group_handle::bundle_nodes() const {
  std::vector<std::string> result;
  for (auto& node : info_of(*this).nodes)
    result.emplace_back(node.nil() ? std::string{} : wire::to_string(node));
  return result;
}

object_ref<void> placement_group_handle::ready() const {
  return task(&caraway_placement_group_ready)
    .num_cpus(0)
    .max_retries(-1)
    .placement_group(*this)
    .remote();
}

bool placement_group_handle::wait(std::chrono::milliseconds timeout) const {
  auto ref = ready();
  try {
    get(ref, timeout);
    return true;
  } catch (const timeout_error&) {
    cancel(ref);
    return false;
  } catch (const unschedulable_error&) {
    return false; // removed
  }
}

placement_group_builder::placement_group_builder(std::vector<bundle> bundles,
                                                 caraway::strategy s)
  : bundles_(std::move(bundles)), strategy_(s) {
  // nop
}

placement_group_handle placement_group_builder::remote() const {
  if (bundles_.empty())
    throw invalid_argument_error("a placement group needs at least one "
                                 "bundle");
  wire::placement_group_info info;
  info.name = name_;
  info.strategy = static_cast<wire::placement_strategy>(strategy_);
  for (size_t i = 0; i < bundles_.size(); ++i) {
    wire::resource_set b;
    for (auto& [name, amount] : bundles_[i]) {
      detail::check_resource(name, amount);
      if (amount > 0)
        b[name] = amount;
    }
    if (b.empty())
      throw invalid_argument_error("bundle " + std::to_string(i)
                                   + " of the placement group asks for no "
                                     "resources");
    info.bundles.emplace_back(std::move(b));
  }
  auto& core = core::require_core();
  info.id = core.create_group(info);
  return placement_group_access::make(info);
}

void remove_placement_group(const placement_group_handle& group) {
  core::require_core().remove_group(id_of(group));
}

placement_group_handle get_placement_group(const std::string& name) {
  auto info = core::require_core().group_named(name);
  if (info.id.nil())
    throw invalid_argument_error("no placement group named '" + name
                                 + "' in this namespace");
  return placement_group_access::make(info);
}

std::vector<placement_group_handle> placement_groups() {
  std::vector<placement_group_handle> result;
  for (auto& info : core::require_core().groups())
    result.emplace_back(placement_group_access::make(info));
  return result;
}

namespace detail {

void check_bundle(const placement_group_handle& group, int64_t index) {
  if (!group.valid())
    throw invalid_argument_error("placement_group() needs a placement group "
                                 "made with remote()");
  auto n = static_cast<int64_t>(group.bundles().size());
  if (index < -1 || index >= n)
    throw invalid_argument_error(
      "placement group " + group.id() + " has " + std::to_string(n)
      + " bundles: no bundle " + std::to_string(index));
}

} // namespace detail

} // namespace caraway
