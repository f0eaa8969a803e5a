#pragma once

// Runs an event-based actor on the middleman's I/O thread, as CAF runs its
// brokers. A message from another process then reaches the actor on the
// thread that read it from the socket, without waking a scheduler thread
// (15-40 us each on a small VM); the actor's own sends to other processes
// skip a hand-off too. Messages from local threads reach the actor through
// the I/O thread's wake-up pipe instead of the scheduler's queue.
//
// Only for actors whose handlers never block: they hold up all network
// traffic of the process while they run.

#include <functional>
#include <utility>

#include <caf/actor_config.hpp>
#include <caf/actor_system.hpp>
#include <caf/execution_unit.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/multiplexer.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/resumable.hpp>

namespace caraway::runtime {

/// An actor of type `Base` (e.g. a `stateful_actor` of a typed interface)
/// that always runs on `io`, with the behavior `init` returns.
template <class Base>
class io_thread_actor : public Base {
public:
  using behavior_type = typename Base::behavior_type;
  using init_fn = std::function<behavior_type(Base*)>;

  io_thread_actor(caf::actor_config& cfg, caf::execution_unit* io, init_fn init)
    : Base(cfg), io_(io), init_(std::move(init)) {
    // nop
  }

  using Base::enqueue;

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit*) override {
    Base::enqueue(std::move(ptr), io_);
  }

  void launch(caf::execution_unit*, bool lazy, bool hide) override {
    Base::launch(io_, lazy, hide);
  }

  // Makes the multiplexer run this actor itself instead of passing it on
  // to the scheduler.
  caf::resumable::subtype_t subtype() const override {
    return caf::resumable::io_actor;
  }

  behavior_type make_behavior() override {
    auto init = std::move(init_);
    return init(this);
  }

private:
  caf::execution_unit* io_;
  init_fn init_;
};

/// Spawns `fun(self, xs...)` as an `io_thread_actor` on the I/O thread of
/// `sys`, whose middleman must be loaded. `Base` is the type `fun` takes a
/// pointer to.
template <class Base, class F, class... Ts>
auto spawn_on_io_thread(caf::actor_system& sys, F fun, Ts... xs) {
  auto io = &sys.middleman().backend();
  using impl = io_thread_actor<Base>;
  typename impl::init_fn init = [fun, xs...](Base* self) mutable {
    return fun(self, std::move(xs)...);
  };
  return sys.spawn<impl>(io, std::move(init));
}

} // namespace caraway::runtime
