#pragma once

#include "caraway/wire/records.hpp"

namespace caraway::core {

/// Throws the `caraway::error` subclass matching `err`.
[[noreturn]] void raise(const wire::error_info& err);

} // namespace caraway::core
