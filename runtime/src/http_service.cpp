#include "http_service.hpp"

#include "caraway/error.hpp"

namespace caraway::runtime {

http_service::http_service(const std::string& what, const std::string& host,
                           uint16_t port) {
  int bound = port == 0
                ? server_.bind_to_any_port(host.c_str())
                : (server_.bind_to_port(host.c_str(), port) ? port : -1);
  if (bound <= 0)
    throw error("cannot serve " + what + " on " + host + ":"
                + std::to_string(port) + " (in use?)");
  port_ = static_cast<uint16_t>(bound);
}

http_service::~http_service() {
  server_.stop();
  if (thread_.joinable())
    thread_.join();
}

void http_service::start() {
  thread_ = std::thread{[this] { server_.listen_after_bind(); }};
}

} // namespace caraway::runtime
