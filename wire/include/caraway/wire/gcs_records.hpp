#pragma once

// What the gcs keeps across restarts in its --data-dir: one record per row
// of its tables. Its log and snapshot are sequences of these.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "caraway/wire/records.hpp"

namespace caraway::wire {

/// An actor: what made it, its state and the node it was placed on. Handles
/// (host, owner) are not kept: they come back as their processes rejoin.
struct stored_actor {
  actor_spec spec;
  actor_info info;
  unique_id node;
};

struct stored_node {
  node_info info;
  /// It ran in the gcs' process, so it ended with the head.
  bool with_gcs = false;
};

struct stored_job {
  uint64_t id = 0;
  std::string driver;
  /// High word of the ids the driver's process mints.
  uint64_t owner = 0;
  bool running = true;
  std::vector<std::string> libraries;
};

/// A process that mints ids with `worker` as their high word.
struct stored_owner {
  uint64_t worker = 0;
  bool gone = false;
};

/// A placement group; the process that created it mints ids with the
/// group id's high word.
struct stored_group {
  placement_group_info info;
};

using gcs_record = std::variant<stored_actor, stored_node, stored_job,
                                stored_owner, stored_group>;

/// The record's Protobuf bytes.
std::string encode(const gcs_record& x);

/// Parses bytes written by `encode`; false if they are not a record.
bool decode(const char* data, size_t size, gcs_record& out);

} // namespace caraway::wire
