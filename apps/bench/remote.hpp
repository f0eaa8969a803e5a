#pragma once

// The tasks and the actor that the benchmark calls. They live in their own
// file so that the task library nodes load holds nothing but them.

#include <cstdint>
#include <string>
#include <vector>

#include <caraway/actor.hpp>

/// The smallest useful task: no arguments, an 8-byte result.
int64_t small_value();

/// Nested tasks: each call submits two more and waits for them.
int64_t fib(int64_t n);

/// Answers calls without touching state, so that it may run them at once.
class bench_actor {
public:
  int64_t small_value() const;
};

/// Makes large objects in its store, or reads them there: two of them are
/// two worker processes of one node (in process mode).
class view_actor {
public:
  /// A ref to `n` doubles this actor put, inside a value (so that the
  /// reader gets the ref, not the value).
  std::vector<caraway::object_ref<std::vector<double>>> make(int64_t n);

  /// "<get_view ns> <get ns> <objects pulled>": how long a view of the
  /// object took, and a get (a copy) after it.
  std::string
  view(const std::vector<caraway::object_ref<std::vector<double>>>& refs);
};

/// Calls `small_value` `n` times, spread over `actors`, and returns the sum
/// of the results.
int64_t call_actors(std::vector<caraway::actor_handle<bench_actor>> actors,
                    int64_t n);

/// The id of the node the task runs on.
std::string task_node();

/// Sleeps `ms` milliseconds and returns the id of the node it ran on: a
/// task of fixed length, for how well work spreads over nodes.
std::string sleep_on_node(int64_t ms);

/// A block of `bytes` bytes (at least 32) that starts with the id of the
/// node that made it.
std::string make_block(int64_t bytes);

/// Checks a block from `make_block` and returns "<maker> <reader> <size>
/// <pulled bytes> <pull ns>": the nodes that made and read it, its size, and
/// the reader's object store counters of bytes pulled and time spent pulling.
std::string read_block(const std::string& block);
