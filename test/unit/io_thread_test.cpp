// Actors on the middleman's I/O thread (caraway/runtime/io_thread.hpp): they
// must run there and only there, whoever sends to them.

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/runtime/io_thread.hpp"

using namespace caraway;
using namespace std::chrono_literals;

namespace {

using later_atom = caf::atom_constant<caf::atom("later")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;

// Answers whether each handler ran on the I/O thread.
using probe_actor
  = caf::typed_actor<caf::replies_to<int32_t>::with<bool>,
                     // Answers after a delayed message to itself arrived.
                     caf::replies_to<later_atom>::with<bool>,
                     caf::reacts_to<tick_atom>>;

struct probe_state {
  static inline const char* name = "probe";
  caf::typed_response_promise<bool> promise;
  bool all_on_io_thread = true;
};

using probe_base = probe_actor::stateful_base<probe_state>;

probe_actor::behavior_type probe(probe_base* self, std::string greeting) {
  auto on_io = [self] {
    auto& mpx = self->system().middleman().backend();
    return std::this_thread::get_id() == mpx.thread_id();
  };
  self->state.all_on_io_thread = on_io() && greeting == "hello";
  return {
    [=](int32_t) {
      self->state.all_on_io_thread &= on_io();
      return self->state.all_on_io_thread;
    },
    [=](later_atom) {
      self->state.promise = self->make_response_promise<bool>();
      self->delayed_send(self, 1ms, tick_atom::value);
      return self->state.promise;
    },
    [=](tick_atom) {
      self->state.all_on_io_thread &= on_io();
      self->state.promise.deliver(self->state.all_on_io_thread);
    },
  };
}

struct io_system {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  io_system() {
    cfg.load<caf::io::middleman>();
    cfg.set("scheduler.policy", caf::atom("sharing"));
    cfg.set("middleman.workers", size_t{0});
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

bool ask(caf::scoped_actor& self, const probe_actor& probe_hdl, int32_t x) {
  bool result = false;
  self->request(probe_hdl, 10s, x)
    .receive([&](bool on_io) { result = on_io; },
             [&](caf::error&) { result = false; });
  return result;
}

} // namespace

TEST_CASE("an actor spawned on the I/O thread handles every message there") {
  io_system env;
  auto& sys = *env.sys;
  auto hdl = runtime::spawn_on_io_thread<probe_base>(sys, probe,
                                                  std::string{"hello"});
  caf::scoped_actor self{sys};
  SUBCASE("requests from a thread outside CAF") {
    for (int32_t i = 0; i < 100; ++i)
      REQUIRE(ask(self, hdl, i));
  }
  SUBCASE("requests from an actor on the scheduler") {
    auto relay = sys.spawn([hdl](caf::event_based_actor* relay_self) {
      return caf::behavior{
        [=](int32_t x) { return relay_self->delegate(hdl, x); },
      };
    });
    for (int32_t i = 0; i < 100; ++i) {
      bool on_io = false;
      self->request(relay, 10s, i)
        .receive([&](bool x) { on_io = x; }, [&](caf::error&) {});
      REQUIRE(on_io);
    }
    self->send_exit(relay, caf::exit_reason::user_shutdown);
  }
  SUBCASE("a delayed message to itself") {
    bool on_io = false;
    self->request(hdl, 10s, later_atom::value)
      .receive([&](bool x) { on_io = x; }, [&](caf::error&) {});
    CHECK(on_io);
  }
  // The system shuts down only once the actor is gone.
  self->send_exit(hdl, caf::exit_reason::user_shutdown);
}
