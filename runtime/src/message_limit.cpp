// CAF 0.17 reads a BASP header, then allocates the payload length it
// announces (up to 4 GiB) before anything checks the sender: a single
// 32-byte header from any client of a node's port made the daemon's memory
// jump by that much. CAF has no option to bound it, but it checks each
// header with basp::valid(), an exported function it calls through the
// PLT. This definition takes its place for the whole process, since this
// library is loaded before CAF's, refuses headers announcing more than the
// limit and leaves every other check to CAF's own.

#include "message_limit.hpp"

#include <dlfcn.h>

#include <atomic>

#include <caf/io/basp/header.hpp>

#include "caraway/log.hpp"

namespace caraway::runtime {

namespace {

std::atomic<uint64_t> limit{uint64_t{64} << 20};

} // namespace

void set_max_message_bytes(uint64_t bytes) {
  limit = bytes;
}

uint64_t max_message_bytes() {
  return limit.load();
}

} // namespace caraway::runtime

namespace caf::io::basp {

bool valid(const header& hdr) {
  using fn = bool (*)(const header&);
  static const fn real = reinterpret_cast<fn>(
    dlsym(RTLD_NEXT, "_ZN3caf2io4basp5validERKNS1_6headerE"));
  auto max = caraway::runtime::max_message_bytes();
  if (hdr.payload_len > max) {
    CARAWAY_LOG(warning, runtime)
      << "closing a connection whose peer announced a message larger than "
         "max-message-bytes"
      << caraway::log::kv("bytes", hdr.payload_len)
      << caraway::log::kv("limit", max);
    return false;
  }
  return real != nullptr ? real(hdr) : true;
}

} // namespace caf::io::basp
