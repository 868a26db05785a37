// When the event loop ticks the core: once per tick interval of wall time, while the
// loop is listening.
//
// A timeout in the core means "this much silence while I was listening". Time the loop
// did not listen (the process was paused with SIGSTOP, starved of a core, or busy in
// one long turn) is not replayed as ticks: the frames that arrived meanwhile are handled
// at the start of the next turn, before its ticks, so replaying the gap would count as
// silence a stretch in which those frames were already waiting. A resumed replica would
// then time out on a primary it had just heard from (or, being an old primary, on the
// view it had just joined) and start a needless view change. A few missed ticks are
// still replayed, so that ordinary jitter does not slow the protocol's clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace vsr::process {

class TickSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  TickSchedule(std::chrono::microseconds tick, std::uint32_t max_replayed, Clock::time_point start);

  struct Due {
    std::uint32_t ticks = 0;    // to run now: at most max_replayed
    std::uint64_t dropped = 0;  // ticks of a gap that are not replayed
  };
  // The ticks due at `now`; the next one falls a whole interval after the last run.
  Due take(Clock::time_point now);
  Clock::time_point next() const { return next_; }

 private:
  std::chrono::microseconds tick_;
  std::uint32_t max_replayed_;
  Clock::time_point next_;
};

}  // namespace vsr::process
