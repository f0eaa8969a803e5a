#include "gcs_client.hpp"

#include <map>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caraway/log.hpp"
#include "caraway/runtime/connect.hpp"
#include "caraway/wire/errc.hpp"
#include "dial.hpp"

namespace caraway::runtime {

namespace {

// At most this many messages wait for a head that went away; later ones
// fail at once.
constexpr size_t max_held = 100000;

// Pause between attempts to reach a head that went away.
constexpr auto retry_pause = std::chrono::milliseconds(200);

struct held_message {
  caf::response_promise promise;
  caf::message content;
};

struct client_state {
  static inline const char* name = "caraway.gcs_client";
  gcs_client_config cfg;
  caf::actor upstream;
  /// False from losing the head until it took this process back.
  bool connected = true;
  /// A connection attempt is on its way (one at a time).
  bool connecting = false;
  /// The latest request to rejoin: answers to earlier ones are stale (the
  /// head they went to may be gone, or a later one took this process back).
  uint64_t rejoin_attempt = 0;
  caf::actor_clock::time_point deadline;
  std::vector<held_message> held;
  /// This node's registration (`register_atom, node_info, raylet`).
  caf::message registration;
  /// This driver's job: number, driver, owner, libraries.
  uint64_t job = 0;
  caf::message job_request;
  /// Owners and subscriptions this process announced, in order.
  std::vector<caf::message> announced;
  /// Actor hosts of this process that announced themselves alive.
  std::map<wire::actor_id, caf::message> hosts;
  /// Why the head is gone for good (a driver's link answers with it).
  std::string lost;
  wire::errc lost_code = wire::errc::none;

  std::string where() const {
    return cfg.host + ":" + std::to_string(cfg.port);
  }
};

using self_ptr = caf::stateful_actor<client_state>*;

// Keeps what the process announces, to announce it again to a head that
// restarted. True if `msg` is announced again that way.
bool remember(self_ptr self, const caf::message& msg) {
  auto& st = self->state;
  if (msg.match_elements<wire::register_atom, wire::node_info,
                         wire::raylet_actor>()) {
    st.registration = msg;
  } else if (msg.match_elements<wire::owner_atom, uint64_t,
                                wire::owner_actor>()
             || msg.match_elements<wire::subscribe_atom,
                                   wire::owner_actor>()) {
    st.announced.emplace_back(msg);
    return true;
  } else if (msg.match_elements<wire::alive_atom, wire::actor_id,
                                wire::actor_host_actor, std::string,
                                int32_t>()) {
    // Forgotten when the host ends: a strong handle would keep a detached
    // host's thread.
    self->monitor(msg.get_as<wire::actor_host_actor>(2));
    st.hosts[msg.get_as<wire::actor_id>(1)] = msg;
    return true;
  } else if (msg.match_elements<wire::dead_atom, wire::actor_id,
                                wire::error_info>()) {
    st.hosts.erase(msg.get_as<wire::actor_id>(1));
  }
  return false;
}

// Fails a request that cannot reach the head; a plain message is dropped.
void fail(caf::response_promise& promise, wire::errc code,
          const std::string& why) {
  if (!promise.async())
    promise.deliver(caf::make_error(code, why));
}

// Fails what waits and stops: with `code`, or as asked when the head
// itself stopped as asked.
void give_up(self_ptr self, wire::errc code, const std::string& why,
             bool asked = false) {
  if (asked)
    CARAWAY_LOG(info, runtime) << why;
  else
    CARAWAY_LOG(error, runtime) << why;
  auto& st = self->state;
  for (auto& x : st.held)
    fail(x.promise, code, why);
  st.held.clear();
  if (st.cfg.answer_when_lost) {
    st.lost = why;
    st.lost_code = code;
  } else if (asked) {
    self->quit(caf::exit_reason::user_shutdown);
  } else {
    self->quit(caf::make_error(code, why));
  }
}

// Taken back: announce again what this process announced, then forward
// what waited.
void resume(self_ptr self) {
  auto& st = self->state;
  for (auto& msg : st.announced)
    self->send(st.upstream, msg);
  for (auto& [id, msg] : st.hosts)
    self->send(st.upstream, msg);
  st.connected = true;
  auto held = std::move(st.held);
  st.held.clear();
  CARAWAY_LOG(info, runtime)
    << "the head is back; this process rejoined it"
    << log::kv("head", st.where()) << log::kv("held", held.size());
  for (auto& x : held)
    x.promise.delegate(st.upstream, std::move(x.content));
}

// Asks the head to take this process back: a node under its id, a driver
// into its job.
void rejoin(self_ptr self) {
  auto& st = self->state;
  auto timeout = std::chrono::seconds(5);
  auto attempt = ++st.rejoin_attempt;
  auto stale = [=] {
    return self->state.rejoin_attempt != attempt || self->state.connected;
  };
  // Only a refusal is final; a head that did not answer is tried again
  // until the reconnect timeout.
  auto failed = [=](caf::error& err) {
    if (stale())
      return;
    if (wire::code_of(err) == wire::errc::fenced) {
      give_up(self, wire::errc::fenced,
              "the head at " + self->state.where()
                + " did not take this process back: "
                + self->system().render(err));
      return;
    }
    CARAWAY_LOG(warning, runtime)
      << "the head did not answer a request to rejoin; trying again"
      << log::kv("head", self->state.where())
      << log::kv("error", self->system().render(err));
    self->state.upstream = nullptr;
    self->delayed_send(self, retry_pause, wire::retry_atom::value);
  };
  if (!st.registration.empty()) {
    auto info = st.registration.get_as<wire::node_info>(1);
    auto raylet = st.registration.get_as<wire::raylet_actor>(2);
    self
      ->request(caf::actor_cast<wire::gcs_actor>(st.upstream), timeout,
                wire::rejoin_atom::value, info, raylet)
      .then(
        [=](bool taken) {
          if (stale())
            return;
          if (taken)
            resume(self);
          else
            give_up(self, wire::errc::fenced,
                    "the head declared this node dead; it must not serve "
                    "any more");
        },
        failed);
  } else if (st.job != 0) {
    auto& req = st.job_request;
    self
      ->request(caf::actor_cast<wire::gcs_actor>(st.upstream), timeout,
                wire::rejoin_atom::value, st.job, req.get_as<std::string>(1),
                req.get_as<wire::owner_actor>(2),
                req.get_as<std::vector<std::string>>(3))
      .then(
        [=](uint64_t, wire::raylet_actor& raylet, wire::unique_id& node) {
          if (stale())
            return;
          if (self->state.cfg.driver_rejoined)
            self->state.cfg.driver_rejoined(std::move(raylet), node);
          resume(self);
        },
        failed);
  } else {
    resume(self);
  }
}

void try_connect(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (now >= st.deadline) {
    give_up(self, wire::errc::head_unavailable,
            "lost the head at " + st.where() + " and could not reach it again "
              + "within "
              + std::to_string(st.cfg.reconnect_timeout.count()) + " ms");
    return;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    st.deadline - now);
  auto& sys = self->system();
  st.connecting = true;
  self
    ->request(core::dialer(sys),
              std::min(left, std::chrono::milliseconds(2000)),
              caf::connect_atom::value, st.cfg.host, st.cfg.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>& ifs) {
        auto& st = self->state;
        st.connecting = false;
        auto gcs = as_gcs(self->system(), st.where(), std::move(ptr), ifs);
        if (!gcs) {
          self->delayed_send(self, retry_pause, wire::retry_atom::value);
          return;
        }
        st.upstream = caf::actor_cast<caf::actor>(*gcs);
        self->monitor(st.upstream);
        rejoin(self);
      },
      [=](caf::error&) {
        self->state.connecting = false;
        self->delayed_send(self, retry_pause, wire::retry_atom::value);
      });
}

// The head is away (lost, or not reached yet): try to reach it until the
// reconnect timeout.
void reach_again(self_ptr self) {
  auto& st = self->state;
  st.connected = false;
  st.upstream = nullptr;
  st.deadline = self->clock().now() + st.cfg.reconnect_timeout;
  try_connect(self);
}

} // namespace

caf::behavior gcs_client(self_ptr self, caf::actor upstream,
                         gcs_client_config cfg) {
  auto& st0 = self->state;
  st0.cfg = std::move(cfg);
  st0.upstream = std::move(upstream);
  if (st0.upstream)
    self->monitor(st0.upstream);
  else
    reach_again(self);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.upstream.address()) {
      for (auto i = st.hosts.begin(); i != st.hosts.end(); ++i) {
        if (i->second.get_as<wire::actor_host_actor>(2).address()
            == msg.source) {
          st.hosts.erase(i);
          return;
        }
      }
      return;
    }
    if (msg.reason == caf::exit_reason::user_shutdown) {
      give_up(self, wire::errc::head_unavailable,
              "the head stopped; this process leaves the cluster",
              /*asked=*/true);
      return;
    }
    if (!st.connected) {
      // The head went again while this process asked to rejoin it (or the
      // middleman handed out the one that had just died).
      st.upstream = nullptr;
      self->delayed_send(self, retry_pause, wire::retry_atom::value);
      return;
    }
    CARAWAY_LOG(warning, runtime)
      << "lost the head; serving on while trying to reach it again"
      << log::kv("head", st.where())
      << log::kv("reason", self->system().render(msg.reason))
      << log::kv("timeout_ms", st.cfg.reconnect_timeout.count());
    reach_again(self);
  });
  self->set_default_handler(
    [=](caf::scheduled_actor*, caf::message_view& view)
      -> caf::result<caf::message> {
      auto& st = self->state;
      if (!st.lost.empty()) {
        auto promise = self->make_response_promise();
        fail(promise, st.lost_code, st.lost);
        return promise;
      }
      auto msg = view.move_content_to_message();
      // A driver's job: answered through here, to learn its number.
      if (msg.match_elements<wire::job_atom, std::string, wire::owner_actor,
                             std::vector<std::string>>()
          && st.connected) {
        auto promise = self->make_response_promise();
        self
          ->request(caf::actor_cast<wire::gcs_actor>(st.upstream),
                    std::chrono::minutes(10), wire::job_atom::value,
                    msg.get_as<std::string>(1),
                    msg.get_as<wire::owner_actor>(2),
                    msg.get_as<std::vector<std::string>>(3))
          .then(
            [=](uint64_t job, wire::raylet_actor& raylet,
                wire::unique_id& node) mutable {
              self->state.job = job;
              self->state.job_request = msg;
              promise.deliver(job, std::move(raylet), std::move(node));
            },
            [=](caf::error& err) mutable { promise.deliver(std::move(err)); });
        return promise;
      }
      auto again = remember(self, msg);
      auto promise = self->make_response_promise();
      if (st.connected && st.upstream) {
        promise.delegate(st.upstream, std::move(msg));
      } else if (again && promise.async()) {
        // Announced when the head is back, once.
      } else if (msg.match_elements<wire::report_atom, wire::node_info>()) {
        // A report is stale by the time the head is back: the next one
        // counts.
      } else if (st.held.size() >= max_held) {
        fail(promise, wire::errc::head_unavailable,
             "the head at " + st.where()
               + " is away and too much waits for it");
      } else {
        st.held.push_back({promise, std::move(msg)});
      }
      return promise;
    });
  return {
    [=](wire::retry_atom) {
      auto& st = self->state;
      if (!st.connected && !st.connecting && !st.upstream)
        try_connect(self);
    },
  };
}

wire::gcs_actor spawn_gcs_client(caf::actor_system& sys,
                                 wire::gcs_actor upstream,
                                 gcs_client_config cfg) {
  auto hdl = sys.spawn(gcs_client, caf::actor_cast<caf::actor>(upstream),
                       std::move(cfg));
  return caf::actor_cast<wire::gcs_actor>(hdl);
}

} // namespace caraway::runtime
