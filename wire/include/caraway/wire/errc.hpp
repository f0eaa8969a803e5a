#pragma once

// Error codes of caraway's components: every error one component answers
// another with carries one of these (category `caraway`), plus a message.

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace caraway::wire {

enum class errc : uint8_t {
  none = 0,
  /// A named actor with this name lives in the namespace already.
  name_taken,
  /// No live node could ever satisfy the resources asked for.
  unschedulable,
  /// The cluster has no live node.
  no_live_node,
  /// A request named something the receiver does not know.
  not_found,
  /// A request was malformed.
  invalid_request,
  /// The gcs declared this node dead, or never knew it: it may not serve.
  fenced,
  /// The head is gone and did not come back in time.
  head_unavailable,
  /// The process that asked is gone (its owner ended).
  owner_gone,
};

/// The name of a code, e.g. "name_taken".
std::string to_string(errc x);

/// The code of a caraway error; `errc::none` for errors of other categories.
errc code_of(const caf::error& err);

} // namespace caraway::wire

CAF_ERROR_CODE_ENUM(caraway::wire::errc, "caraway")
