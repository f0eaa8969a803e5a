#pragma once

// Shared libraries with user code: which ones a driver announces with its
// job, and loading them into a node.

#include <string>
#include <vector>

#include "caraway/config.hpp"

namespace caraway::runtime {

/// The task library `caraway_add_app` builds for the executable at `exe`:
/// `lib<name>_tasks.so` next to it, else in `../lib` (where builds and
/// installs put libraries); empty if there is none.
std::string task_library_of(const std::string& exe);

/// The libraries a driver announces with its job, as absolute paths:
/// `cfg.libraries` if set, else the task library of this executable if it
/// has one.
std::vector<std::string> job_libraries(const config& cfg);

/// Why each of these libraries cannot be read (it is missing, say).
std::vector<std::string>
missing_libraries(const std::vector<std::string>& paths);

/// Loads libraries into this process, each file once; their registrations
/// run as they load. Returns why each library that failed did not load.
std::vector<std::string> load_libraries(const std::vector<std::string>& paths);

} // namespace caraway::runtime
