// Doorbells: how a producer wakes a consumer process that went to sleep.
//
// One per consuming process (each replica, each client slot), in the segment: a 32-bit
// futex word and a "sleeping" flag, on a cache line of their own. Waking a sleeping
// process costs ~20 us here and the wake syscall costs the producer too, so producers
// ring only when the consumer has declared it sleeps; a consumer that was recently busy
// polls with sched_yield instead (bench/README.md: ~1 us per hop with more processes
// than cores, where pure spinning would starve them).
//
// No lost wake-ups (Dekker-style, both sides with a seq_cst fence):
//   consumer: sleeping = 1; fence; re-check rings; if empty, futex_wait(word, seen)
//   producer: push (release); fence; if sleeping: word += 1; futex_wake(word)
// Either the producer sees sleeping == 1 and rings, or the consumer's re-check sees the
// pushed bytes. A ring that happens between the consumer reading `seen` and sleeping
// changes the word, so futex_wait returns at once. A producer killed between its push
// and its ring only delays the consumer until its wait timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace vsr::shm {

struct alignas(64) Doorbell {
  std::atomic<std::uint32_t> word{0};      // futex word; bumped by every ring
  std::atomic<std::uint32_t> sleeping{0};  // 1 while the consumer sleeps (or is about to)

  // Producer side, after its pushes and a seq_cst fence (see fence_before_ring()).
  // Returns true if the consumer was asleep and a wake was issued.
  bool ring_if_sleeping();
  // Unconditional ring (the supervisor's hint): wakes the consumer wherever it waits.
  void ring();
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t), "futex word");

// The producer's half of the protocol: orders its pushes before reading `sleeping`.
inline void fence_before_ring() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

enum class SleepResult : std::uint8_t {
  ready,      // the consumer's re-check after declaring sleep found work
  rung,       // woken by a ring (or the word had changed already)
  timed_out,  // the timeout passed without a ring
};

// The consumer's half: declares sleep, re-checks with `has_work`, sleeps on the futex
// until rung or until `timeout` passes (interrupted sleeps are resumed). `seen` is the
// word value read before the caller last checked for work.
template <typename HasWork>
SleepResult sleep_on(Doorbell& bell, std::uint32_t seen, std::chrono::nanoseconds timeout,
                     HasWork&& has_work);

namespace detail {
// FUTEX_WAIT (shared, not private: the word is in memory shared by processes) with a
// relative timeout. Returns 0 on a wake, or the errno (ETIMEDOUT, EAGAIN, EINTR).
int futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
               std::chrono::nanoseconds timeout);
void futex_wake_all(std::atomic<std::uint32_t>& word);
std::chrono::nanoseconds monotonic_now();
}  // namespace detail

template <typename HasWork>
SleepResult sleep_on(Doorbell& bell, std::uint32_t seen, std::chrono::nanoseconds timeout,
                     HasWork&& has_work) {
  const auto deadline = detail::monotonic_now() + timeout;
  for (;;) {
    bell.sleeping.store(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (has_work()) {
      bell.sleeping.store(0, std::memory_order_relaxed);
      return SleepResult::ready;
    }
    if (bell.word.load(std::memory_order_seq_cst) != seen) {
      bell.sleeping.store(0, std::memory_order_relaxed);
      return SleepResult::rung;
    }
    const auto remaining = deadline - detail::monotonic_now();
    if (remaining <= std::chrono::nanoseconds::zero()) {
      bell.sleeping.store(0, std::memory_order_relaxed);
      return SleepResult::timed_out;
    }
    detail::futex_wait(bell.word, seen, remaining);
    bell.sleeping.store(0, std::memory_order_relaxed);
    // Whatever woke us (ring, timeout, signal, spurious), the word and the clock decide.
    if (bell.word.load(std::memory_order_acquire) != seen) return SleepResult::rung;
    if (detail::monotonic_now() >= deadline) return SleepResult::timed_out;
  }
}

}  // namespace vsr::shm
