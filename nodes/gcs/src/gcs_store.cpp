#include "caraway/node/gcs_store.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caraway/log.hpp"

namespace caraway::node {

namespace {

constexpr const char* snapshot_name = "/gcs.snapshot";
constexpr const char* log_name = "/gcs.log";

// No single row comes near this; a larger length is a damaged file.
constexpr uint32_t max_record = 64u << 20;

std::runtime_error failure(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

std::string read_file(const std::string& path) {
  std::string result;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return result;
    throw failure("cannot open", path);
  }
  char buf[1 << 16];
  for (;;) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      ::close(fd);
      throw failure("cannot read", path);
    }
    if (n == 0)
      break;
    result.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return result;
}

// Appends the records in `bytes` to `out`; returns how many bytes held
// whole records (a crash may have cut the last one short).
size_t parse(const std::string& bytes, const std::string& path,
             std::vector<wire::gcs_record>& out) {
  size_t pos = 0;
  while (bytes.size() - pos >= 4) {
    uint32_t len = 0;
    for (int i = 3; i >= 0; --i)
      len = (len << 8) | static_cast<uint8_t>(bytes[pos + i]);
    if (len > max_record || bytes.size() - pos - 4 < len)
      break;
    wire::gcs_record rec;
    if (!wire::decode(bytes.data() + pos + 4, len, rec)) {
      CARAWAY_LOG(warning, gcs)
        << "a damaged record ends what is read of a file"
        << log::kv("path", path) << log::kv("offset", pos);
      break;
    }
    out.emplace_back(std::move(rec));
    pos += 4 + len;
  }
  return pos;
}

std::string frame(const wire::gcs_record& x) {
  auto body = wire::encode(x);
  auto len = static_cast<uint32_t>(body.size());
  std::string result;
  result.reserve(4 + body.size());
  for (int i = 0; i < 4; ++i)
    result.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  result += body;
  return result;
}

bool write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

gcs_store::gcs_store(std::string dir) : dir_(std::move(dir)) {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST)
    throw failure("cannot create the data directory", dir_);
  // One head per data dir: two writing one log would corrupt it.
  auto lock_path = dir_ + "/gcs.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0)
    throw failure("cannot open", lock_path);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    throw std::runtime_error("another head uses the data directory "
                             + dir_);
  }
  auto snapshot_path = dir_ + snapshot_name;
  auto log_path = dir_ + log_name;
  parse(read_file(snapshot_path), snapshot_path, loaded_);
  auto log = read_file(log_path);
  auto before = loaded_.size();
  auto good = parse(log, log_path, loaded_);
  log_records_ = loaded_.size() - before;
  log_fd_ = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                   0600);
  if (log_fd_ < 0)
    throw failure("cannot open", log_path);
  // New records must follow the last whole one, not a torn tail.
  if (good < log.size() && ::ftruncate(log_fd_, static_cast<off_t>(good)) != 0)
    throw failure("cannot truncate", log_path);
}

gcs_store::~gcs_store() {
  if (log_fd_ >= 0)
    ::close(log_fd_);
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

std::vector<wire::gcs_record> gcs_store::take_loaded() {
  return std::move(loaded_);
}

bool gcs_store::append(const wire::gcs_record& x) {
  // One write per record: a crash leaves at most this record torn.
  if (!write_all(log_fd_, frame(x))) {
    CARAWAY_LOG(error, gcs)
      << "cannot write to the gcs log; a restarted head will miss this change"
      << log::kv("dir", dir_) << log::kv("error", std::strerror(errno));
    return false;
  }
  ++log_records_;
  return true;
}

bool gcs_store::compact(const std::vector<wire::gcs_record>& rows) {
  auto path = dir_ + snapshot_name;
  auto tmp = path + ".tmp";
  std::string bytes;
  for (auto& row : rows)
    bytes += frame(row);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && write_all(fd, bytes) && ::fsync(fd) == 0;
  if (fd >= 0)
    ::close(fd);
  // The snapshot replaces the old one whole; only then may the log go.
  ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0
       && ::ftruncate(log_fd_, 0) == 0;
  if (!ok) {
    CARAWAY_LOG(error, gcs)
      << "cannot write the gcs snapshot; the log keeps growing"
      << log::kv("path", path) << log::kv("error", std::strerror(errno));
    return false;
  }
  log_records_ = 0;
  return true;
}

} // namespace caraway::node
