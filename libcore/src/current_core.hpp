#pragma once

namespace caraway::owner {

class core_worker;

} // namespace caraway::owner

namespace caraway::core {

using owner::core_worker;

/// The core worker of the running session, or null.
core_worker* current_core() noexcept;

/// The core worker of the running session; throws if there is none.
core_worker& require_core();

/// Makes `core` (null: none) the running session's core worker; the
/// runtime calls it as sessions start and stop.
void set_current_core(core_worker* core) noexcept;

} // namespace caraway::core
