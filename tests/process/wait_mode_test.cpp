#include "replica/process/wait_mode.h"

#include <gtest/gtest.h>

namespace vsr::process {
namespace {

using namespace std::chrono_literals;
using Mode = WaitMode::Mode;

const WaitMode::Clock::time_point t0 = WaitMode::Clock::time_point{} + 1h;

TEST(WaitMode, IdleFromTheStartSleeps) {
  WaitMode w(20ms);
  EXPECT_EQ(w.mode(t0), Mode::sleep);
  w.after_turn(t0, false, false);  // heartbeats only
  EXPECT_EQ(w.mode(t0 + 1ms), Mode::sleep);
}

TEST(WaitMode, ProtocolWorkYieldPollsForIdleAfterThenSleeps) {
  WaitMode w(20ms);
  w.after_turn(t0, true, false);
  EXPECT_EQ(w.mode(t0 + 19ms), Mode::yield_then_sleep);
  w.after_turn(t0 + 5ms, false, false);  // heartbeats do not end the window early
  EXPECT_EQ(w.mode(t0 + 19ms), Mode::yield_then_sleep);
  EXPECT_EQ(w.mode(t0 + 20ms), Mode::sleep);
}

TEST(WaitMode, HeldBackPreparesNapUntilWorkSomeoneWaitsOnArrives) {
  WaitMode w(20ms);
  w.after_turn(t0, true, false);
  w.after_turn(t0 + 1ms, false, true);  // only Prepares of committed ops
  EXPECT_EQ(w.mode(t0 + 2ms), Mode::nap) << "even inside the yield window";
  w.after_turn(t0 + 3ms, false, false);  // a heartbeat keeps the nap
  EXPECT_EQ(w.mode(t0 + 4ms), Mode::nap);
  w.after_turn(t0 + 5ms, true, true);  // a Prepare someone waits on: poll again
  EXPECT_EQ(w.mode(t0 + 6ms), Mode::yield_then_sleep);
  w.after_turn(t0 + 7ms, false, true);
  EXPECT_EQ(w.mode(t0 + 8ms), Mode::nap);
}

TEST(WaitMode, ANapEndsInSleepOnceNothingCameForIdleAfter) {
  WaitMode w(20ms);
  w.after_turn(t0, false, true);
  EXPECT_EQ(w.mode(t0 + 19ms), Mode::nap);
  // The cluster went idle: sleep where a ring (the next Prepare, a hint) wakes us.
  EXPECT_EQ(w.mode(t0 + 20ms), Mode::sleep);
}

}  // namespace
}  // namespace vsr::process
