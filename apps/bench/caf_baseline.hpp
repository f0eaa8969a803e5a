#pragma once

#include "measure.hpp"

namespace bench {

/// Measures bare CAF request/response round trips in one actor system set up
/// like caraway's, and prints `caf_baseline_*` lines: the ceiling that
/// caraway's messaging builds on.
void run_caf_baseline(const settings& cfg, report& out);

/// Measures copying a large buffer into reused memory and prints
/// `memcpy_baseline_gigabytes`: the ceiling for large puts.
void run_memcpy_baseline(const settings& cfg, report& out, size_t bytes);

} // namespace bench
