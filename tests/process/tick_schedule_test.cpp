#include "replica/process/tick_schedule.h"

#include <gtest/gtest.h>

namespace vsr::process {
namespace {

using namespace std::chrono_literals;
using Clock = TickSchedule::Clock;

const Clock::time_point t0{};

TEST(TickSchedule, NothingIsDueBeforeTheFirstInterval) {
  TickSchedule s(1ms, 4, t0);
  EXPECT_EQ(s.take(t0).ticks, 0u);
  EXPECT_EQ(s.take(t0 + 999us).ticks, 0u);
  EXPECT_EQ(s.next(), t0 + 1ms);
}

TEST(TickSchedule, KeepsTheCadenceOfWallTime) {
  TickSchedule s(1ms, 4, t0);
  // Turns at odd moments: each interval yields one tick, none is lost or doubled.
  std::uint32_t total = 0;
  for (int us = 0; us < 100'000; us += 370)
    total += s.take(t0 + std::chrono::microseconds(us)).ticks;
  EXPECT_EQ(total, 99u);  // the last turn, at 99.9 ms
  total += s.take(t0 + 100ms).ticks;
  EXPECT_EQ(total, 100u);
}

TEST(TickSchedule, ReplaysAShortLag) {
  TickSchedule s(1ms, 4, t0);
  const TickSchedule::Due due = s.take(t0 + 3500us);  // due at 1, 2 and 3 ms
  EXPECT_EQ(due.ticks, 3u);
  EXPECT_EQ(due.dropped, 0u);
  EXPECT_EQ(s.next(), t0 + 4ms);
}

TEST(TickSchedule, AGapIsNotReplayed) {
  // The loop did not run for half a second (a SIGSTOP): a timeout of 60 ticks must not
  // fire on the turn that first handles what arrived meanwhile.
  TickSchedule s(1ms, 4, t0);
  const TickSchedule::Due due = s.take(t0 + 500ms + 300us);
  EXPECT_EQ(due.ticks, 4u);
  EXPECT_EQ(due.dropped, 496u);
  // The cadence starts over from the turn that noticed the gap.
  EXPECT_EQ(s.next(), t0 + 501ms + 300us);
  EXPECT_EQ(s.take(t0 + 501ms).ticks, 0u);
  EXPECT_EQ(s.take(t0 + 501ms + 300us).ticks, 1u);
}

}  // namespace
}  // namespace vsr::process
