#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace caraway::test {

/// A fresh directory under the system's temporary one, removed at the end;
/// TLS files go into its subdirectory `tls`, which `tls::init` makes.
struct temp_dir {
  std::string path;
  std::string tls;

  temp_dir() {
    auto tmpl = (std::filesystem::temp_directory_path() / "caraway-test.XXXXXX")
                  .string();
    path = ::mkdtemp(tmpl.data());
    tls = path + "/tls";
  }

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string file(const std::string& name) const {
    return tls + "/" + name;
  }
};

} // namespace caraway::test
