#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "caraway/wire/gcs_records.hpp"

namespace caraway::node {

/// The gcs' tables on disk (`--data-dir`): a snapshot and a log of the
/// records written after it. Each change is one `write` to the log, not
/// synced: it survives the head process dying (the kernel has it), not the
/// machine crashing. Plain files instead of an embedded database: the
/// tables are small, read once at start and written a row at a time.
class gcs_store {
public:
  /// Opens `dir` (created if missing) and reads the snapshot and the log. A
  /// log cut short by a crash loses its last, partial record. Throws
  /// std::runtime_error naming the file it cannot read or write, or when
  /// another process holds the directory.
  explicit gcs_store(std::string dir);

  ~gcs_store();

  gcs_store(const gcs_store&) = delete;
  gcs_store& operator=(const gcs_store&) = delete;

  /// What the files held at open, oldest first; a later record of a row
  /// replaces an earlier one.
  std::vector<wire::gcs_record> take_loaded();

  /// Appends one record to the log; false (and logged) if it failed.
  bool append(const wire::gcs_record& x);

  /// Records in the log since the last snapshot.
  size_t log_records() const {
    return log_records_;
  }

  /// Writes `rows` as the new snapshot (atomically, by rename) and empties
  /// the log.
  bool compact(const std::vector<wire::gcs_record>& rows);

  const std::string& dir() const {
    return dir_;
  }

private:
  std::string dir_;
  int log_fd_ = -1;
  int lock_fd_ = -1;
  size_t log_records_ = 0;
  std::vector<wire::gcs_record> loaded_;
};

} // namespace caraway::node
