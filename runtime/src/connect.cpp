#include "caraway/runtime/connect.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <algorithm>
#include <thread>

namespace caraway::runtime {

using wire::gcs_actor;

namespace {

// Asks the middleman to connect; `as` turns what the peer publishes into
// the handle wanted, or an error naming the address.
template <class Handle, class As>
caf::expected<Handle> connect_once(caf::actor_system& sys,
                                   const std::string& host, uint16_t port,
                                   std::chrono::milliseconds timeout,
                                   const char* what, As as) {
  auto where = host + ":" + std::to_string(port);
  caf::expected<Handle> result{caf::sec::cannot_connect_to_node};
  // remote_actor() has no timeout; asking the middleman actor does.
  caf::scoped_actor self{sys};
  self
    ->request(sys.middleman().actor_handle(), timeout,
              caf::connect_atom::value, host, port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>& ifs) {
        result = as(where, std::move(ptr), ifs);
      },
      [&](caf::error& err) {
        result = caf::make_error(caf::sec::cannot_connect_to_node,
                                 std::string{"cannot reach "} + what + " at "
                                   + where + ": " + sys.render(err));
      });
  return result;
}

caf::expected<gcs_actor> connect_once(caf::actor_system& sys,
                                      const std::string& host, uint16_t port,
                                      std::chrono::milliseconds timeout) {
  return connect_once<gcs_actor>(
    sys, host, port, timeout, "the head",
    [&](const std::string& where, caf::strong_actor_ptr ptr,
        const std::set<std::string>& ifs) {
      return as_gcs(sys, where, std::move(ptr), ifs);
    });
}

} // namespace

caf::expected<gcs_actor> as_gcs(caf::actor_system& sys,
                                const std::string& where,
                                caf::strong_actor_ptr ptr,
                                const std::set<std::string>& ifs) {
  if (!ptr)
    return caf::make_error(caf::sec::no_actor_published_at_port,
                           "nothing is published at " + where);
  if (ifs != sys.message_types<gcs_actor>())
    return caf::make_error(caf::sec::unexpected_actor_messaging_interface,
                           where + " is not a caraway head");
  return caf::actor_cast<gcs_actor>(std::move(ptr));
}

caf::expected<gcs_actor> connect_gcs(caf::actor_system& sys,
                                     const std::string& host, uint16_t port,
                                     std::chrono::milliseconds timeout,
                                     bool retry) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    auto result = connect_once(sys, host, port,
                               std::max(left, std::chrono::milliseconds(1)));
    // A peer that is not caraway will not become one.
    if (result || !retry
        || result.error() == caf::sec::unexpected_actor_messaging_interface
        || clock::now() + std::chrono::milliseconds(100) >= deadline)
      return result;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

caf::expected<wire::raylet_actor>
connect_raylet(caf::actor_system& sys, const std::string& host, uint16_t port,
               std::chrono::milliseconds timeout) {
  return connect_once<wire::raylet_actor>(
    sys, host, port, timeout, "the node",
    [&](const std::string& where, caf::strong_actor_ptr ptr,
        const std::set<std::string>& ifs) -> caf::expected<wire::raylet_actor> {
      if (!ptr)
        return caf::make_error(caf::sec::no_actor_published_at_port,
                               "nothing is published at " + where);
      if (ifs != sys.message_types<wire::raylet_actor>())
        return caf::make_error(caf::sec::unexpected_actor_messaging_interface,
                               where + " is not a caraway worker node");
      return caf::actor_cast<wire::raylet_actor>(std::move(ptr));
    });
}

} // namespace caraway::runtime
