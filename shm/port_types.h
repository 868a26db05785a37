// What the ports accept (options) and report (send results, counters).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "shm/limits.h"

namespace vsr::shm {

struct PortOptions {
  // After the last work (a message received or frames pushed), wait() polls its rings
  // with sched_yield for this long before it sleeps on the doorbell: a hop then costs
  // ~1 us instead of a ~20 us futex wake, and yielding keeps the other processes
  // running when they outnumber the cores. Zero: always sleep. 1 ms covers a
  // replicated round trip under load (32 sessions: ~130 us; sync batch: ~500 us): with
  // 150 us, a client under 32-session load slept and was rung awake ~4,000 times a
  // second, and throughput was ~19% lower (README "Performance"). Idle costs nothing
  // more: a window follows only work, and replicas skip it after heartbeats.
  std::chrono::microseconds spin_window{1000};
  // Within the window, each sched_yield is followed by one poll plus this many more
  // (with a CPU pause between them). Extra polls catch a message that lands just after
  // a yield (~0.8 us here) but keep the core from a process that waits for it; with
  // more processes than cores, 0 measured best (docs/shm.md). With cores to spare,
  // `uncontended_poll` below polls without yielding anyway.
  std::uint32_t polls_between_yields = 0;
  // While no task waits for a CPU (no more runnable tasks than the CPUs this process
  // may use, shm/cpu_contention.h; a CPU quota is not seen), the window polls without
  // yielding and yields only once per this long. Yielding hands a shared core to a
  // process that needs it; when nobody does, it only delays: a message that lands
  // during a yield (~0.7-1.4 us here) is seen when the yield returns. Two processes
  // measured 1.3 us one-way yield-polling and 0.5 us this way (docs/shm.md). With more
  // busy processes than cores, as in a replicated write on 2 cores, this does not
  // apply. Zero: always yield-poll.
  std::chrono::microseconds uncontended_poll{20};
  // Where the runnable count comes from (shm/cpu_contention.h); tests substitute a file.
  std::string loadavg_path = "/proc/loadavg";
  // Bound of each per-destination outbox.
  std::size_t outbox_bytes_max = kOutboxBytesMax;
};

enum class SendError : std::uint8_t {
  none,
  link_cut,          // the link matrix cuts self -> destination
  outbox_full,       // the destination's outbox would exceed its bound
  too_big,           // body larger than kMaxMessageBytes
  stale_generation,  // the client slot now has another owner (or none)
};
const char* to_string(SendError error);

// `if (!port.send(...))`: false when the message was dropped (and counted).
struct SendResult {
  SendError error = SendError::none;
  explicit operator bool() const { return error == SendError::none; }
  const char* message() const { return to_string(error); }
};

// Process-local counters of one port; monotonic.
struct Counters {
  // Sending.
  std::uint64_t messages_queued = 0;
  std::uint64_t frames_queued = 0;
  std::uint64_t frames_pushed = 0;
  std::uint64_t bytes_pushed = 0;  // frame bytes, headers included
  std::uint64_t pushes = 0;        // ring pushes (each carries >= 1 whole frame)
  std::uint64_t dropped_link_cut = 0;
  std::uint64_t dropped_outbox_full = 0;
  std::uint64_t dropped_too_big = 0;
  std::uint64_t dropped_stale_generation = 0;
  std::uint64_t frames_discarded = 0;  // queued, then dropped (link cut at flush, new owner)
  std::uint64_t wakes_sent = 0;        // doorbells rung for sleeping receivers

  // Receiving.
  std::uint64_t frames_received = 0;  // valid frames
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t stale_generation_received = 0;  // a previous slot owner's frames, dropped
  std::uint64_t bad_truncated = 0;
  std::uint64_t bad_magic = 0;
  std::uint64_t bad_length = 0;
  std::uint64_t bad_checksum = 0;
  std::uint64_t bad_reserved = 0;
  std::uint64_t bad_fragment = 0;
  std::uint64_t bad_cluster = 0;
  std::uint64_t bad_sender = 0;
  std::uint64_t bad_generation = 0;
  std::uint64_t bytes_skipped = 0;           // garbage skipped to find the next frame
  std::uint64_t fragments_out_of_order = 0;  // valid frames that did not continue a message
  std::uint64_t reassemblies_discarded = 0;  // partial messages abandoned

  // Waiting.
  std::uint64_t waits = 0;
  std::uint64_t wakes_immediate = 0;   // work was there on entry
  std::uint64_t wakes_in_window = 0;   // found while yield-polling
  std::uint64_t uncontended_waits = 0;  // windows that polled first: nobody waited for a CPU
  std::uint64_t window_yields = 0;      // sched_yield calls in windows
  std::uint64_t wakes_on_recheck = 0;  // found after declaring sleep, before sleeping
  std::uint64_t wakes_rung = 0;        // woken by a doorbell
  std::uint64_t wakes_timeout = 0;     // slept until the timeout
  // Timeouts with work waiting: a lost wake-up (or a producer killed before ringing).
  std::uint64_t wakes_timeout_with_work = 0;
  std::uint64_t naps = 0;  // sleeps that asked no sender to ring (ReplicaPort::nap)

  std::uint64_t bad_frames() const {
    return bad_truncated + bad_magic + bad_length + bad_checksum + bad_reserved + bad_fragment +
           bad_cluster + bad_sender + bad_generation;
  }
};

}  // namespace vsr::shm
