// Fuzzes the Protobuf bridge: the decoding of every record type that other
// processes send (as CAF would hand the bytes to it) and of the gcs's
// stored records. The first input byte picks the record type; the rest are
// the record's Protobuf bytes. A decoder may reject them; it must not
// crash, leak or read out of bounds.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <google/protobuf/stubs/logging.h>

#include "caraway/wire/bridge.hpp"
#include "caraway/wire/gcs_records.hpp"
#include "caraway/wire/records.hpp"

using namespace caraway::wire;

namespace {

// Never destroyed: at exit, CAF's own statics may already be gone.
caf::actor_system& system_for_handles() {
  static auto* sys = [] {
    auto* cfg = new caf::actor_system_config;
    add_message_types(*cfg);
    cfg->set("scheduler.max-threads", size_t{1});
    return new caf::actor_system{*cfg};
  }();
  return *sys;
}

// What follows a record's Protobuf bytes in its CAF form: its actor
// handles, here the null ones of a default record.
template <class T>
const std::vector<char>& handle_tail() {
  static const std::vector<char> tail = [] {
    auto& sys = system_for_handles();
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    T x;
    if (inspect(sink, x))
      abort();
    // Skip the length-prefixed Protobuf string of the default record.
    caf::binary_deserializer source{sys, buf};
    std::string bytes;
    if (source(bytes))
      abort();
    return std::vector<char>(buf.end() - static_cast<ptrdiff_t>(source.remaining()),
                             buf.end());
  }();
  return tail;
}

template <class T>
void decode_record(const uint8_t* data, size_t size) {
  auto& sys = system_for_handles();
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (sink(bytes))
    abort();
  auto& tail = handle_tail<T>();
  buf.insert(buf.end(), tail.begin(), tail.end());
  caf::binary_deserializer source{sys, buf};
  T x;
  if (inspect(source, x))
    return;
  // A record that decoded encodes again.
  std::vector<char> out;
  caf::binary_serializer again{sys, out};
  if (inspect(again, x))
    abort();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Rejected strings would be logged once per input.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto kind = data[0];
  ++data;
  --size;
  using decoder = void (*)(const uint8_t*, size_t);
  static constexpr decoder records[]
    = {decode_record<error_info>,           decode_record<task_spec>,
       decode_record<task_result>,          decode_record<actor_spec>,
       decode_record<actor_info>,           decode_record<node_info>,
       decode_record<placement_group_info>, decode_record<task_info>,
       decode_record<worker_info>,          decode_record<object_info>,
       decode_record<metric_sample>};
  constexpr size_t count = sizeof(records) / sizeof(records[0]);
  if (kind % (count + 1) < count) {
    records[kind % (count + 1)](data, size);
  } else {
    gcs_record rec;
    if (decode(reinterpret_cast<const char*>(data), size, rec))
      encode(rec);
  }
  return 0;
}
