#include "caraway/node/data_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "caraway/log.hpp"
#include "data_stream.hpp"
#include "socket_io.hpp"

namespace caraway::node {

std::string local_address_towards(const std::string& peer) {
  std::string fallback = "127.0.0.1";
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(peer.c_str(), "9", &hints, &res) != 0 || res == nullptr)
    return fallback;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::string result = fallback;
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  // Connecting a datagram socket only picks a route.
  if (fd >= 0 && ::connect(fd, res->ai_addr, res->ai_addrlen) == 0
      && getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
    char text[INET_ADDRSTRLEN];
    if (inet_ntop(AF_INET, &local.sin_addr, text, sizeof(text)) != nullptr)
      result = text;
  }
  if (fd >= 0)
    ::close(fd);
  freeaddrinfo(res);
  return result;
}

data_server::data_server(store_memory_ptr store, options opts)
  : store_(std::move(store)), opts_(std::move(opts)) {
  std::string why;
  listen_fd_ = data::listen_on(opts_.host, opts_.port, why);
  if (listen_fd_ < 0)
    throw std::runtime_error("cannot listen for object data on " + opts_.host
                             + ":" + std::to_string(opts_.port) + ": " + why);
  port_ = data::local_port(listen_fd_);
  advertised_ = opts_.advertised_host;
  if (advertised_.empty())
    advertised_ = opts_.host == "0.0.0.0" || opts_.host == "::"
                      || opts_.host.empty()
                    ? local_address_towards(opts_.peer)
                    : opts_.host;
  acceptor_ = std::make_unique<data::acceptor>(
    listen_fd_, opts_.max_connections, [this](int fd) { serve(fd); }, "data");
}

data_server::~data_server() {
  stop();
}

std::string data_server::address() const {
  // IPv6 literals need brackets to stay apart from the port.
  if (advertised_.find(':') != std::string::npos)
    return "[" + advertised_ + "]:" + std::to_string(port_);
  return advertised_ + ":" + std::to_string(port_);
}

void data_server::stop() {
  acceptor_->stop();
}

void data_server::serve(int fd) {
  data::set_timeouts(fd, opts_.idle_timeout);
  data::stream conn{fd};
  std::string why;
  if (opts_.tls && !conn.secure(*opts_.tls, /*accepting=*/true, why)) {
    ++refused_;
    CARAWAY_LOG(warning, object_store) << "refusing a data connection: " << why;
    return;
  }
  char request[data::request_size];
  char header[data::response_header_size];
  for (;;) {
    if (!conn.recv_all(request, sizeof(request)))
      return; // closed, idle too long, or stopping
    wire::object_id id;
    if (!data::decode_request(request, id)) {
      CARAWAY_LOG(warning, object_store)
        << "closing a data connection that sent a malformed request";
      return;
    }
    auto buf = store_->get(id);
    header[0] = static_cast<char>(buf ? data::status::ok
                                      : data::status::not_found);
    data::encode_u64(buf ? buf->size() : 0, header + 1);
    if (!conn.send_all(header, sizeof(header)))
      return;
    if (!buf)
      continue;
    // Bounded writes keep one request from holding the socket for long
    // stretches inside a single system call.
    auto data = buf->data();
    for (size_t off = 0; off < buf->size(); off += opts_.chunk_bytes) {
      auto len = std::min(opts_.chunk_bytes, buf->size() - off);
      if (!conn.send_all(data + off, len))
        return;
    }
    ++served_objects_;
    served_bytes_ += buf->size();
  }
}

} // namespace caraway::node
