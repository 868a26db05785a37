#include "replica/process/tick_schedule.h"

#include "common/assert.h"

namespace vsr::process {

TickSchedule::TickSchedule(std::chrono::microseconds tick, std::uint32_t max_replayed,
                           Clock::time_point start)
    : tick_(tick), max_replayed_(max_replayed), next_(start + tick) {
  VSR_ASSERT(tick_.count() > 0 && max_replayed_ >= 1);
}

TickSchedule::Due TickSchedule::take(Clock::time_point now) {
  Due due;
  if (now < next_) return due;
  const std::uint64_t missed = static_cast<std::uint64_t>((now - next_) / tick_) + 1;
  if (missed <= max_replayed_) {
    due.ticks = static_cast<std::uint32_t>(missed);
    next_ += tick_ * missed;
  } else {
    // A gap: run a few ticks and start the cadence over from now.
    due.ticks = max_replayed_;
    due.dropped = missed - max_replayed_;
    next_ = now + tick_;
  }
  return due;
}

}  // namespace vsr::process
