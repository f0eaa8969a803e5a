// caraway::progress: what it draws, and when, on a terminal and off it.

#include <doctest/doctest.h>

#include <sstream>

#include "caraway/progress.hpp"

using namespace caraway;
using namespace std::chrono_literals;

namespace {

struct fake_clock {
  progress::clock::time_point t{};

  std::function<progress::clock::time_point()> fn() {
    return [this] { return t; };
  }
};

} // namespace

TEST_CASE("progress shows done/total, a bar, the rate and the time left") {
  std::ostringstream out;
  fake_clock c;
  progress p{"predict", out, false, c.fn()};
  p.start(100);
  CHECK(p.line() == "predict 0/100 [--------------------] 0%");
  c.t += 2s;
  p.advance(40);
  CHECK(p.line() == "predict 40/100 [########------------] 40% 20.0/s ETA 3s");
  c.t += 3s;
  p.advance(60);
  CHECK(p.line()
        == "predict 100/100 [####################] 100% 20.0/s in 5s");
}

TEST_CASE("progress off a terminal prints a line a second and the last") {
  std::ostringstream out;
  fake_clock c;
  progress p{"x", out, false, c.fn()};
  p.start(10);
  CHECK(out.str().empty());
  // Within a second: nothing; after it, one line.
  c.t += 500ms;
  p.advance();
  CHECK(out.str().empty());
  c.t += 600ms;
  p.advance();
  CHECK(out.str() == "x 2/10 [####----------------] 20% 1.8/s ETA 4s\n");
  out.str("");
  // The last one always, once.
  c.t += 100ms;
  p.advance(8);
  p.finish();
  CHECK(out.str() == "x 10/10 [####################] 100% 8.3/s in 1s\n");
}

TEST_CASE("progress on a terminal redraws its line in place") {
  std::ostringstream out;
  fake_clock c;
  progress p{"x", out, true, c.fn()};
  p.start(4);
  CHECK(out.str() == "\r\033[Kx 0/4 [--------------------] 0%");
  out.str("");
  c.t += 200ms;
  p.advance();
  CHECK(out.str() == "\r\033[Kx 1/4 [#####---------------] 25% 5.0/s ETA 1s");
  out.str("");
  // Too soon for another redraw.
  c.t += 10ms;
  p.advance();
  CHECK(out.str().empty());
  // The end is drawn and the line closed.
  p.advance(2);
  CHECK(out.str()
        == "\r\033[Kx 4/4 [####################] 100% 19.0/s in 0s\n");
}

TEST_CASE("progress of nothing ends at once") {
  std::ostringstream out;
  fake_clock c;
  progress p{"none", out, false, c.fn()};
  p.start(0);
  p.finish();
  p.finish();
  CHECK(out.str() == "none 0/0 [####################] 100%\n");
}
