// The doorbell protocol in one process: each half of the handshake, deterministically.
#include "shm/doorbell.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace vsr::shm {
namespace {

using namespace std::chrono_literals;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(DoorbellProtocol, ProducerRingsOnlyASleeper) {
  Doorbell bell;
  EXPECT_FALSE(bell.ring_if_sleeping());
  EXPECT_EQ(bell.word.load(), 0u);
  bell.sleeping.store(1);
  EXPECT_TRUE(bell.ring_if_sleeping());
  EXPECT_EQ(bell.word.load(), 1u);
  EXPECT_EQ(bell.sleeping.load(), 0u);  // taken: a second producer does not ring again
  EXPECT_FALSE(bell.ring_if_sleeping());
}

// The producer pushed after the consumer's last look and before it declared sleep, saw
// `sleeping == 0` and did not ring: the re-check after declaring sleep must see the push.
TEST(DoorbellProtocol, ReCheckAfterDeclaringSleepSeesARacingPush) {
  Doorbell bell;
  const std::uint32_t seen = bell.word.load();
  const bool pushed = true;  // already in the ring, nobody will ring
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sleep_on(bell, seen, 2s, [&] { return pushed; }), SleepResult::ready);
  EXPECT_LT(seconds_since(start), 0.5);
  EXPECT_EQ(bell.sleeping.load(), 0u);
}

// A ring between the consumer reading the word and sleeping is not lost either.
TEST(DoorbellProtocol, RingBeforeTheSleepIsNotLost) {
  Doorbell bell;
  const std::uint32_t seen = bell.word.load();
  bell.ring();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(sleep_on(bell, seen, 2s, [] { return false; }), SleepResult::rung);
  EXPECT_LT(seconds_since(start), 0.5);
}

TEST(DoorbellProtocol, SleeperIsWokenByARingAndTimesOutWithout) {
  Doorbell bell;
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    while (bell.sleeping.load() == 0)
      std::this_thread::yield();
    pushed.store(true);
    fence_before_ring();
    EXPECT_TRUE(bell.ring_if_sleeping());
  });
  auto start = std::chrono::steady_clock::now();
  const SleepResult r = sleep_on(bell, bell.word.load(), 10s, [&] { return pushed.load(); });
  EXPECT_TRUE(r == SleepResult::rung || r == SleepResult::ready);
  EXPECT_LT(seconds_since(start), 5.0);
  producer.join();

  start = std::chrono::steady_clock::now();
  EXPECT_EQ(sleep_on(bell, bell.word.load(), 30ms, [] { return false; }), SleepResult::timed_out);
  const double elapsed = seconds_since(start);
  EXPECT_GE(elapsed, 0.029);
  EXPECT_LT(elapsed, 1.0);
}

}  // namespace
}  // namespace vsr::shm
