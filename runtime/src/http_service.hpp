#pragma once

// A daemon's HTTP endpoint (metrics, dashboard): cpp-httplib's server on a
// thread of its own, and bounded questions to the daemon's actors.

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <tuple>

#include <httplib.h>

#include <caf/all.hpp>

namespace caraway::runtime {

class http_service {
public:
  /// Binds host:port (0: a free one); throws `caraway::error` naming
  /// `what` (e.g. "metrics") if it cannot.
  http_service(const std::string& what, const std::string& host, uint16_t port);
  ~http_service();

  http_service(const http_service&) = delete;
  http_service& operator=(const http_service&) = delete;

  /// Where routes go, before `start`.
  httplib::Server& server() {
    return server_;
  }

  /// Serves from now on.
  void start();

  uint16_t port() const {
    return port_;
  }

private:
  httplib::Server server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

/// Asks `hdl` and waits at most `timeout` for the reply's values, moved
/// into `results`; false if none came (or an error did).
template <class... Results, class Handle, class... Ts>
bool ask_all(caf::scoped_actor& self, const Handle& hdl,
             std::chrono::milliseconds timeout, std::tuple<Results&...> results,
             Ts... xs) {
  bool ok = false;
  self->request(hdl, timeout, xs...)
    .receive(
      [&](Results&... xs) {
        results = std::forward_as_tuple(std::move(xs)...);
        ok = true;
      },
      [&](caf::error&) {});
  return ok;
}

template <class Result, class Handle, class... Ts>
bool ask(caf::scoped_actor& self, const Handle& hdl,
         std::chrono::milliseconds timeout, Result& result, Ts... xs) {
  return ask_all(self, hdl, timeout, std::tie(result), xs...);
}

} // namespace caraway::runtime
