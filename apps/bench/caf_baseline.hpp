#pragma once

#include <string>

#include "measure.hpp"

namespace bench {

/// The hidden flag that makes the bench the echo server of the remote
/// baseline instead.
constexpr const char* caf_echo_server_flag = "--caf-echo-server";

/// Measures bare CAF request/response round trips in one actor system set up
/// like caraway's, and prints `caf_baseline_*` lines: the ceiling that
/// caraway's messaging builds on.
void run_caf_baseline(const settings& cfg, report& out);

/// The same round trips to an echo server in a child process (`exe` run
/// with `caf_echo_server_flag`) over a loopback connection of CAF's
/// middleman, and prints `caf_remote_baseline_*` lines: the ceiling for
/// calls from a driver to a node.
void run_caf_remote_baseline(const settings& cfg, report& out,
                             const std::string& exe);

/// Publishes an echo actor on a free loopback port, prints the port and
/// serves until SIGTERM; the child side of the remote baseline. Returns the
/// exit code.
int run_caf_echo_server();

/// Measures copying a large buffer into reused memory and prints
/// `memcpy_baseline_gigabytes`: the ceiling for large puts.
void run_memcpy_baseline(const settings& cfg, report& out, size_t bytes);

} // namespace bench
