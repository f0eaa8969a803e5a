// Fuzzes configuration parsing: a driver's --caraway-* flags and the INI
// file they may name. The input is NUL-separated arguments; after the last
// NUL comes the file's text. Bad input must end in caraway's own
// invalid_argument_error, naming the problem, and nothing else.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "caraway/config.hpp"
#include "caraway/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args{"app"};
  size_t pos = 0;
  for (auto nul = text.find('\0'); nul != std::string::npos;
       nul = text.find('\0', pos)) {
    args.emplace_back(text.substr(pos, nul - pos));
    pos = nul + 1;
  }
  // The file, in memory, named by its descriptor.
  int fd = ::memfd_create("caraway-config", MFD_CLOEXEC);
  if (fd < 0)
    abort();
  auto file = text.substr(pos);
  if (::write(fd, file.data(), file.size()) != static_cast<ssize_t>(file.size()))
    abort();
  args.emplace_back("--caraway-config=/proc/self/fd/" + std::to_string(fd));
  std::vector<const char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.c_str());
  try {
    caraway::parse_config(static_cast<int>(argv.size()), argv.data());
  } catch (const caraway::invalid_argument_error& err) {
    if (std::string{err.what()}.empty())
      abort();
  }
  try {
    caraway::parse_resources(file);
  } catch (const caraway::invalid_argument_error&) {
    // rejected, with a reason
  }
  ::close(fd);
  return 0;
}
