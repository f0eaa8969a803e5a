#include "caraway/runtime/libraries.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "caraway/log.hpp"
#include "registry.hpp"

namespace fs = std::filesystem;

namespace caraway::runtime {

std::string task_library_of(const std::string& exe) {
  fs::path path{exe};
  auto name = "lib" + path.filename().string() + "_tasks.so";
  auto dir = path.parent_path();
  for (auto& candidate : {dir / name, dir / ".." / "lib" / name}) {
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec))
      return fs::absolute(candidate, ec).lexically_normal().string();
  }
  return {};
}

std::vector<std::string> job_libraries(const config& cfg) {
  std::vector<std::string> result;
  std::error_code ec;
  if (cfg.libraries) {
    // Nodes do not share the driver's working directory.
    for (auto& path : *cfg.libraries)
      if (!path.empty())
        result.emplace_back(fs::absolute(path, ec).lexically_normal().string());
    return result;
  }
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    if (auto lib = task_library_of(exe.string()); !lib.empty())
      result.emplace_back(std::move(lib));
  return result;
}

namespace {

std::mutex loaded_mtx;

// Canonical paths of the libraries this process loaded.
std::set<std::string> loaded;

} // namespace

std::vector<std::string>
missing_libraries(const std::vector<std::string>& paths) {
  std::vector<std::string> result;
  for (auto& path : paths) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      result.emplace_back("cannot load the library '" + path
                          + "': no such file");
  }
  return result;
}

std::vector<std::string> load_libraries(const std::vector<std::string>& paths) {
  std::vector<std::string> failed;
  // One library at a time: the registry's problem list tells whose
  // registrations clashed.
  std::lock_guard<std::mutex> guard{loaded_mtx};
  auto& reg = core::registry::instance();
  for (auto& path : paths) {
    std::error_code ec;
    auto key = fs::weakly_canonical(path, ec).string();
    if (ec)
      key = path;
    if (loaded.count(key) > 0)
      continue;
    auto known_problems = reg.problems().size();
    // The handle stays open for the life of the process.
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      failed.emplace_back("cannot load the library '" + path
                          + "': " + dlerror());
      continue;
    }
    loaded.insert(key);
    CARAWAY_LOG(info, runtime) << "loaded library" << log::kv("path", path);
    auto problems = reg.problems();
    for (auto i = known_problems; i < problems.size(); ++i)
      CARAWAY_LOG(warning, runtime) << "library " << path << ": " << problems[i]
                                    << "; the first registration stays";
  }
  return failed;
}

} // namespace caraway::runtime
