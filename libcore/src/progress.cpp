#include "caraway/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace caraway {

namespace {

constexpr size_t bar_width = 20;

// Plain lines (not a terminal) come at most this often.
constexpr auto line_period = std::chrono::seconds(1);

// A terminal is redrawn at most this often: fast loops do not flood it.
constexpr auto redraw_period = std::chrono::milliseconds(100);

// "3s", "2m05s", "1h02m".
std::string duration_text(double seconds) {
  auto s = static_cast<long long>(std::llround(seconds));
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof(buf), "%llds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", s / 3600, s % 3600 / 60);
  return buf;
}

} // namespace

progress::progress(std::string label)
  : progress(std::move(label), std::cerr, ::isatty(STDERR_FILENO) == 1) {
  // nop
}

progress::progress(std::string label, std::ostream& out, bool tty,
                   std::function<clock::time_point()> now)
  : label_(std::move(label)), out_(&out), tty_(tty), now_(std::move(now)) {
  // nop
}

void progress::start(size_t total) {
  total_ = total;
  done_ = 0;
  finished_ = false;
  started_ = now_();
  drawn_ = started_;
  if (tty_)
    draw(false);
}

void progress::advance(size_t n) {
  done_ += n;
  if (done_ >= total_) {
    finish();
    return;
  }
  clock::duration period = tty_ ? clock::duration{redraw_period}
                                : clock::duration{line_period};
  if (now_() - drawn_ >= period)
    draw(false);
}

void progress::finish() {
  if (finished_)
    return;
  finished_ = true;
  draw(true);
}

std::string progress::line() const {
  std::ostringstream out;
  out << label_ << ' ' << done_ << '/' << total_;
  auto fraction = total_ == 0 ? 1.0
                              : static_cast<double>(done_)
                                  / static_cast<double>(total_);
  auto filled = static_cast<size_t>(fraction * bar_width);
  out << " [" << std::string(filled, '#')
      << std::string(bar_width - filled, '-') << "] "
      << static_cast<int>(fraction * 100) << '%';
  auto elapsed = std::chrono::duration<double>(now_() - started_).count();
  if (elapsed > 0 && done_ > 0) {
    auto rate = static_cast<double>(done_) / elapsed;
    char buf[32];
    std::snprintf(buf, sizeof(buf), " %.1f/s", rate);
    out << buf;
    if (done_ < total_)
      out << " ETA "
          << duration_text(static_cast<double>(total_ - done_) / rate);
    else
      out << " in " << duration_text(elapsed);
  }
  return out.str();
}

void progress::draw(bool last) {
  drawn_ = now_();
  if (tty_)
    // Back to the line's start and clear it: the line may have shrunk.
    *out_ << "\r\033[K" << line() << (last ? "\n" : "") << std::flush;
  else
    *out_ << line() << '\n' << std::flush;
}

} // namespace caraway
