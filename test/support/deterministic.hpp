#pragma once

// An actor system on CAF's deterministic test scheduler: no threads run
// actors; a test runs their pending messages with `run()` and fires timers
// with `trigger_timeouts()`, so message flows play out the same way on
// every run.

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "caraway/wire/bridge.hpp"

namespace caraway::test {

struct deterministic_config : caf::actor_system_config {
  deterministic_config() {
    set("scheduler.policy", caf::atom("testing"));
    wire::add_message_types(*this);
  }
};

struct deterministic_fixture {
  deterministic_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  /// Runs every pending message; returns how many ran.
  size_t run() {
    return sched.run();
  }

  /// Fires every pending timer, then runs what that sent.
  size_t trigger_timeouts() {
    auto n = sched.trigger_timeouts();
    run();
    return n;
  }

  ~deterministic_fixture() {
    run();
  }
};

} // namespace caraway::test
