#include "current_core.hpp"

#include <atomic>

#include "caraway/error.hpp"

namespace caraway::core {

namespace {

std::atomic<core_worker*> active_core{nullptr};

} // namespace

core_worker* current_core() noexcept {
  return active_core.load();
}

core_worker& require_core() {
  auto ptr = active_core.load();
  if (ptr == nullptr)
    throw error("caraway is not initialized: call caraway::init first");
  return *ptr;
}

void set_current_core(core_worker* core) noexcept {
  active_core = core;
}

} // namespace caraway::core
