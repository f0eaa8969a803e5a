#pragma once

#include <stdexcept>
#include <string>

namespace caraway {

/// Base of every error caraway reports to the user.
class error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The task (or actor method) threw; carries the original exception's type
/// name and message.
class task_error : public error {
public:
  task_error(std::string type_name, std::string message);

  /// Demangled type name of the exception the task threw.
  const std::string& type_name() const noexcept {
    return type_name_;
  }

  /// `what()` of the exception the task threw.
  const std::string& message() const noexcept {
    return message_;
  }

private:
  std::string type_name_;
  std::string message_;
};

/// The actor is gone: its constructor threw, it was killed, or its node died.
class actor_died_error : public error {
public:
  using error::error;
};

/// Every copy of the object is lost.
class object_lost_error : public error {
public:
  using error::error;
};

/// The process that owns the object is gone.
class owner_died_error : public error {
public:
  using error::error;
};

/// The node running the task died.
class node_died_error : public error {
public:
  using error::error;
};

/// The worker process running the task crashed (abort, segfault, exit) or
/// was killed, and the task has no retries left; names the signal or exit
/// code and the node.
class worker_crashed_error : public error {
public:
  using error::error;
};

/// No node may run the task: e.g. its hard node affinity names a node that
/// is dead, unknown or without the resources.
class unschedulable_error : public error {
public:
  using error::error;
};

/// The task was cancelled.
class cancelled_error : public error {
public:
  using error::error;
};

/// `get` gave up after its timeout.
class timeout_error : public error {
public:
  using error::error;
};

/// A function, method or actor class is missing from the registry, or was
/// registered twice.
class registration_error : public error {
public:
  using error::error;
};

/// An option or argument was rejected where it was given.
class invalid_argument_error : public error {
public:
  using error::error;
};

/// The object store has no room for the object.
class object_store_full_error : public error {
public:
  using error::error;
};

} // namespace caraway
