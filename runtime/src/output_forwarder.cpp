#include "output_forwarder.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "caraway/error.hpp"

namespace caraway::runtime {

output_forwarder::output_forwarder(std::string where)
  : where_(std::move(where)) {
  // nop
}

void output_forwarder::start() {
  int out[2];
  int err[2];
  if (pipe(out) != 0 || pipe(err) != 0)
    throw error(std::string{"cannot forward the worker's output: "}
                + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  auto out_file = dup(1);
  auto err_file = dup(2);
  dup2(out[1], 1);
  dup2(err[1], 2);
  close(out[1]);
  close(err[1]);
  // Lines arrive as they are printed, not when a buffer fills.
  setvbuf(stdout, nullptr, _IOLBF, 0);
  pipes_[0] = out[0];
  pipes_[1] = err[0];
  std::thread{[this, o = out[0], e = err[0], out_file, err_file] {
    run(o, e, out_file, err_file);
  }}.detach();
}

void output_forwarder::drain(std::unique_lock<std::mutex>& lock) {
  std::fflush(stdout);
  std::fflush(stderr);
  auto unread = [this] {
    for (auto fd : pipes_) {
      int n = 0;
      if (fd >= 0 && ioctl(fd, FIONREAD, &n) == 0 && n > 0)
        return true;
    }
    return false;
  };
  // Bounded: a task printing without end must not stall the next one.
  drained_.wait_for(lock, std::chrono::milliseconds(100),
                    [&] { return !busy_ && !unread(); });
}

void output_forwarder::task_started(const wire::task_spec& spec) {
  std::unique_lock<std::mutex> lock{mtx_};
  drain(lock);
  owner_ = spec.owner;
  function_ = spec.function;
}

output_forwarder::task_ref output_forwarder::current() {
  std::lock_guard<std::mutex> guard{mtx_};
  return {owner_, function_};
}

void output_forwarder::restore(task_ref x) {
  std::unique_lock<std::mutex> lock{mtx_};
  drain(lock);
  owner_ = std::move(x.owner);
  function_ = std::move(x.function);
}

void output_forwarder::pass_on(std::vector<std::string> lines) {
  wire::owner_actor owner;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    owner = owner_;
  }
  if (owner)
    caf::anon_send(owner, wire::log_atom::value, std::move(lines));
}

void output_forwarder::run(int out_pipe, int err_pipe, int out_file,
                           int err_file) {
  pollfd fds[2] = {{out_pipe, POLLIN, 0}, {err_pipe, POLLIN, 0}};
  int files[2] = {out_file, err_file};
  std::string partial[2];
  char buf[65536];
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    // Until its lines are sent, a task switch waits (`drain`).
    {
      std::lock_guard<std::mutex> guard{mtx_};
      busy_ = true;
    }
    std::vector<std::string> lines;
    for (int i = 0; i < 2; ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP)) == 0)
        continue;
      auto n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) {
        fds[i].fd = -1; // closed: poll skips it
        continue;
      }
      // The log file gets everything as it came.
      for (ssize_t done = 0; done < n;) {
        auto w = write(files[i], buf + done, static_cast<size_t>(n - done));
        if (w <= 0)
          break;
        done += w;
      }
      auto& rest = partial[i];
      rest.append(buf, static_cast<size_t>(n));
      size_t begin = 0;
      for (auto end = rest.find('\n'); end != std::string::npos;
           end = rest.find('\n', begin)) {
        lines.emplace_back(rest.substr(begin, end - begin));
        begin = end + 1;
      }
      rest.erase(0, begin);
    }
    wire::owner_actor owner;
    std::string prefix;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      owner = owner_;
      prefix = "(" + function_ + " " + where_ + ") ";
      busy_ = false;
    }
    drained_.notify_all();
    if (fds[0].fd < 0 && fds[1].fd < 0)
      return;
    if (lines.empty())
      continue;
    if (!owner)
      continue; // printed before any task ran: the log file has it
    for (auto& line : lines)
      line.insert(0, prefix);
    caf::anon_send(owner, wire::log_atom::value, std::move(lines));
  }
}

} // namespace caraway::runtime
