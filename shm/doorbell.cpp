#include "shm/doorbell.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace vsr::shm {

bool Doorbell::ring_if_sleeping() {
  // Load first: the common case (consumer awake) stays a read of a shared cache line.
  // The exchange makes one producer of several do the wake.
  if (sleeping.load(std::memory_order_relaxed) == 0) return false;
  if (sleeping.exchange(0, std::memory_order_seq_cst) == 0) return false;
  ring();
  return true;
}

void Doorbell::ring() {
  word.fetch_add(1, std::memory_order_seq_cst);
  detail::futex_wake_all(word);
}

namespace detail {

int futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
               std::chrono::nanoseconds timeout) {
  const auto ns = timeout.count();
  struct timespec relative {};
  relative.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  relative.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  const long rc = ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT,
                            expected, &relative, nullptr, 0);
  return rc == 0 ? 0 : errno;
}

void futex_wake_all(std::atomic<std::uint32_t>& word) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr,
            nullptr, 0);
}

std::chrono::nanoseconds monotonic_now() {
  struct timespec now {};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return std::chrono::nanoseconds(std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec);
}

}  // namespace detail
}  // namespace vsr::shm
