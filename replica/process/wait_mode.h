// How vsr-replica waits between turns, from what its recent turns did.
//
//   yield_then_sleep  protocol work within idle_after (a request, a Prepare someone waits
//                     on, a PrepareOk, a view change): an answer may come within
//                     microseconds, so yield-poll the rings for a while, then sleep on
//                     the doorbell (shm/doorbell.h).
//   nap               the last turns with work took only Prepares of committed ops (a
//                     backup the primary's quorum_first fan-out holds back): nobody waits
//                     on our answer, so sleep to the next tick without asking senders to
//                     ring, and take what gathered in one go. Keeps the backup off the
//                     cores the critical path needs, and the primary from paying a
//                     wake-up per Prepare.
//   sleep             idle (heartbeats only, for idle_after): sleep on the doorbell.
#pragma once

#include <chrono>

namespace vsr::process {

class WaitMode {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Mode { yield_then_sleep, nap, sleep };

  explicit WaitMode(std::chrono::microseconds idle_after) : idle_after_(idle_after) {}

  // What a turn that began at `now` did: protocol work (anything but heartbeats and
  // held-back Prepares), and whether it took held-back Prepares.
  void after_turn(Clock::time_point now, bool protocol_work, bool deferred_work) {
    if (protocol_work) {
      last_active_ = now;
      napping_ = false;
    } else if (deferred_work) {
      last_deferred_ = now;
      napping_ = true;
    }
  }

  Mode mode(Clock::time_point now) const {
    if (napping_ && now - last_deferred_ < idle_after_) return Mode::nap;
    if (now - last_active_ < idle_after_) return Mode::yield_then_sleep;
    return Mode::sleep;
  }

 private:
  std::chrono::microseconds idle_after_;
  Clock::time_point last_active_{};
  Clock::time_point last_deferred_{};
  bool napping_ = false;
};

}  // namespace vsr::process
