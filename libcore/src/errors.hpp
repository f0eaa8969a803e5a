#pragma once

#include <caf/fwd.hpp>

#include "caraway/wire/records.hpp"

namespace caraway::core {

/// Throws the `caraway::error` subclass matching `err`.
[[noreturn]] void raise(const wire::error_info& err);

/// Throws the `caraway::error` subclass matching an error a component
/// answered with (or a request that got no answer); `text` is its message.
[[noreturn]] void raise(const caf::error& err, const std::string& text);

} // namespace caraway::core
