#include "caraway/node/object_puller.hpp"

#include <unistd.h>

#include <algorithm>

#include "caraway/log.hpp"
#include "caraway/wire/address.hpp"
#include "data_stream.hpp"
#include "socket_io.hpp"

namespace caraway::node {

object_puller::object_puller(store_memory_ptr store, options opts)
  : store_(std::move(store)), opts_(std::move(opts)) {
  // nop
}

wire::buffer_ptr object_puller::fetch(const wire::object_id& id,
                                      const std::string& address,
                                      std::string& why, bool* pulled,
                                      clock::time_point deadline) {
  if (auto local = store_->get(id))
    return local;
  // Each wait on the peer is bounded by what is left until the deadline
  // (at least 1 ms: a zero socket timeout would mean none).
  auto timeout = opts_.timeout;
  if (deadline != clock::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    timeout = std::max(std::chrono::milliseconds(1), std::min(timeout, left));
  }
  std::shared_ptr<pull_state> state;
  bool leader = false;
  {
    std::unique_lock<std::mutex> guard{mtx_};
    auto& slot = pulls_[id];
    if (!slot) {
      slot = std::make_shared<pull_state>();
      leader = true;
    }
    state = slot;
    if (!leader) {
      if (!cv_.wait_until(guard, deadline, [&] { return state->done; })) {
        why = "gave up waiting for a pull of object " + wire::to_string(id)
              + " from " + address;
        return nullptr;
      }
      why = state->why;
      return state->result;
    }
  }
  // The store may have got the object since the first look.
  auto result = store_->get(id);
  if (!result) {
    result = pull(id, address, timeout, why);
    if (pulled != nullptr)
      *pulled = result != nullptr;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  state->done = true;
  state->result = result;
  state->why = why;
  pulls_.erase(id);
  cv_.notify_all();
  return result;
}

wire::buffer_ptr
object_puller::pull(const wire::object_id& id, const std::string& address,
                    std::chrono::milliseconds timeout, std::string& why) {
  auto fail = [&](std::string text) -> wire::buffer_ptr {
    why = "cannot pull object " + wire::to_string(id) + " from " + address
          + ": " + text;
    CARAWAY_LOG(debug, object_store) << why;
    return nullptr;
  };
  auto start = std::chrono::steady_clock::now();
  std::string host;
  uint16_t port = 0;
  std::string reason;
  if (!wire::split_address(address, host, port, reason))
    return fail(reason);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int fd = data::connect_to(host, port, timeout, reason);
  if (fd < 0)
    return fail(reason);
  struct closer {
    int fd;
    ~closer() {
      ::close(fd);
    }
  } guard{fd};
  data::set_timeouts(fd, timeout);
  data::stream conn{fd};
  if (opts_.tls && !conn.secure(*opts_.tls, /*accepting=*/false, reason))
    return fail(reason);
  char request[data::request_size];
  data::encode_request(id, request);
  char header[data::response_header_size];
  if (!conn.send_all(request, sizeof(request))
      || !conn.recv_all(header, sizeof(header)))
    return fail("no answer (" + conn.error() + ")");
  if (static_cast<data::status>(header[0]) != data::status::ok)
    return fail("the node no longer has it");
  auto size = data::decode_u64(header + 1);
  auto buf = store_->allocate(size);
  if (!buf) {
    auto st = store_->get_stats();
    return fail("the local object store has no room for " + std::to_string(size)
                + " bytes (" + std::to_string(st.used_bytes) + " of "
                + std::to_string(st.capacity_bytes) + " in use)");
  }
  // Straight into the store's memory: no staging copy.
  if (!conn.recv_all(buf->data(), size))
    return fail("the transfer broke off (" + conn.error() + ")");
  store_->seal(id, buf, /*primary=*/false);
  ++pulled_objects_;
  pulled_bytes_ += size;
  auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
  pull_ns_ += static_cast<uint64_t>(took);
  CARAWAY_LOG(debug, object_store)
    << "pulled an object" << log::kv("id", wire::to_string(id))
    << log::kv("from", address) << log::kv("bytes", size)
    << log::kv("ms", static_cast<double>(took) / 1e6);
  return buf;
}

} // namespace caraway::node
