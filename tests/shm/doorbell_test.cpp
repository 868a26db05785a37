// Doorbells: no lost wake-ups. Every wait below has a timeout long enough that a single
// lost wake-up shows as a stall and as a timeout with work waiting.
#include <gtest/gtest.h>

#include <random>

#include "shm/client_port.h"
#include "shm/replica_port.h"
#include "test_util.h"

namespace vsr::shm {
namespace {

using test::TestSegment;
using namespace std::chrono_literals;

struct PeerReport {
  std::atomic<int> done{0};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> wakes_timeout{0};
  std::atomic<std::uint64_t> wakes_timeout_with_work{0};
  std::atomic<std::uint64_t> wakes_rung{0};
};

// Waits on `port` until `want` messages arrived, or `limit` passes.
template <typename Port>
std::uint64_t receive_n(Port& port, std::uint64_t want, std::chrono::seconds limit,
                        std::chrono::microseconds wait_timeout) {
  std::uint64_t got = 0;
  const auto start = std::chrono::steady_clock::now();
  while (got < want && std::chrono::steady_clock::now() - start < limit) {
    got += port.poll([](Endpoint, std::uint16_t, ByteView) {});
    if (got < want) port.wait(wait_timeout);
  }
  return got;
}

void spin_for(std::chrono::nanoseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
  }
}

void copy_counters(const Counters& c, PeerReport* report) {
  report->wakes_timeout.store(c.wakes_timeout);
  report->wakes_timeout_with_work.store(c.wakes_timeout_with_work);
  report->wakes_rung.store(c.wakes_rung);
}

// Both sides always sleep on the futex (no yield window): each of the 3000 round trips
// is two sleep/wake handshakes. A lost wake-up would cost a 2 s timeout.
TEST(Doorbell, PingPongWithBothSidesAsleepLosesNoWakeUp) {
  TestSegment t("pingpong", 2, 0);
  PortOptions sleepy;
  sleepy.spin_window = 0us;
  constexpr std::uint64_t kRounds = 3000;
  test::SharedBlock<PeerReport> report;
  const pid_t echo = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    ReplicaPort r1(s, 1, sleepy);
    std::uint64_t echoed = 0;
    const auto start = std::chrono::steady_clock::now();
    while (echoed < kRounds && test::seconds_since(start) < 120) {
      echoed += r1.poll(
          [&](Endpoint, std::uint16_t, ByteView body) { r1.send(Endpoint::replica(0), 2, body); });
      r1.flush();
      if (echoed < kRounds) r1.wait(2s);
    }
    report->received.store(echoed);
    copy_counters(r1.counters(), &*report);
    return 0;
  });
  ReplicaPort r0(t.segment, 0, sleepy);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t completed = 0;
  for (std::uint64_t i = 0; i < kRounds; ++i) {
    ASSERT_TRUE(r0.send(Endpoint::replica(1), 1, test::make_body(i, 64)));
    r0.flush();
    if (receive_n(r0, 1, 30s, 2s) != 1) break;
    ++completed;
  }
  const double elapsed = test::seconds_since(start);
  EXPECT_EQ(test::reap(echo), 0);
  EXPECT_EQ(completed, kRounds);
  EXPECT_EQ(report->received.load(), kRounds);
  EXPECT_EQ(r0.counters().wakes_timeout_with_work, 0u);
  EXPECT_EQ(report->wakes_timeout_with_work.load(), 0u);
  EXPECT_EQ(r0.counters().wakes_timeout, 0u);
  EXPECT_EQ(report->wakes_timeout.load(), 0u);
  EXPECT_GT(r0.counters().wakes_rung + r0.counters().wakes_on_recheck, 0u);
  // ~40-100 us per round trip here; a single lost wake-up alone would add 2 s.
  EXPECT_LT(elapsed, 1.9) << "round trips took " << elapsed << " s";
  std::printf("%llu round trips in %.3f s; r0 slept and was rung %llu times\n",
              static_cast<unsigned long long>(kRounds), elapsed,
              static_cast<unsigned long long>(r0.counters().wakes_rung));
}

// A client producing bursts with random gaps, the replica sleeping between them (with
// its default yield window, so both the window and the futex path are exercised).
TEST(Doorbell, BurstsToASleepingConsumerAllArrive) {
  TestSegment t("bursts", 1, 1);
  test::SharedBlock<PeerReport> report;
  constexpr std::uint64_t kBursts = 1500;
  std::mt19937 random(99);
  std::vector<unsigned> sizes(kBursts);
  std::vector<unsigned> gaps_us(kBursts);
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < kBursts; ++i) {
    sizes[i] = 1 + random() % 40;
    gaps_us[i] = random() % 600;
    total += sizes[i];
  }
  const pid_t consumer = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    ReplicaPort r0(s, 0);
    report->done.store(1);
    report->received.store(receive_n(r0, total, 120s, 1s));
    copy_counters(r0.counters(), &*report);
    return 0;
  });
  while (report->done.load() == 0)
    ::usleep(1000);
  ClientPort c = ClientPort::claim(t.segment);
  for (std::uint64_t burst = 0; burst < kBursts; ++burst) {
    for (unsigned i = 0; i < sizes[burst]; ++i) {
      ASSERT_TRUE(c.send(0, 1, test::make_body(burst, 64)));
    }
    c.flush();
    ::usleep(gaps_us[burst]);
  }
  EXPECT_EQ(test::reap(consumer), 0);
  EXPECT_EQ(report->received.load(), total);
  EXPECT_EQ(report->wakes_timeout_with_work.load(), 0u);
  EXPECT_LE(report->wakes_timeout.load(), 1u);  // only a scheduling stall of > 1 s could
  EXPECT_GT(report->wakes_rung.load(), 0u);     // the futex path was taken
  EXPECT_GT(c.counters().wakes_sent, 0u);
}

// Requests timed at random around the moment the echo side goes to sleep. The echo side
// always sleeps (zero window) after 0-8 us of work; the requester sees each echo within
// a microsecond or so, waits 0-1 us and sends the next. A push that lands between the
// echo side's last check and its `sleeping = 1` would, without the re-check after
// declaring sleep, strand it until its 50 ms timeout: nothing else would wake it, since
// the requester waits for the echo.
TEST(Doorbell, RequestsTimedAtTheSleepTransitionAreNeverStranded) {
  TestSegment t("race", 2, 0);
  test::SharedBlock<PeerReport> report;
  constexpr std::uint64_t kRounds = 100000;
  const pid_t echo = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    PortOptions sleepy;
    sleepy.spin_window = 0us;
    ReplicaPort r1(s, 1, sleepy);
    report->done.store(1);
    std::mt19937 random(6);
    std::uint64_t echoed = 0;
    const auto start = std::chrono::steady_clock::now();
    while (echoed < kRounds && test::seconds_since(start) < 90) {
      echoed += r1.poll(
          [&](Endpoint, std::uint16_t, ByteView body) { r1.send(Endpoint::replica(0), 2, body); });
      r1.flush();
      // Work after replying (as a replica applies and persists), of random length, so
      // that the next request lands before, during and after the way into sleep.
      spin_for(std::chrono::nanoseconds(random() % 8000));
      if (echoed < kRounds) r1.wait(50ms);
    }
    report->received.store(echoed);
    copy_counters(r1.counters(), &*report);
    return 0;
  });
  while (report->done.load() == 0)
    ::usleep(1000);
  ReplicaPort r0(t.segment, 0);
  std::mt19937 random(5);
  std::uint64_t completed = 0;
  const auto start = std::chrono::steady_clock::now();
  while (completed < kRounds && test::seconds_since(start) < 60) {
    spin_for(std::chrono::nanoseconds(random() % 1000));
    ASSERT_TRUE(r0.send(Endpoint::replica(1), 1, test::make_body(completed, 32)));
    r0.flush();
    if (receive_n(r0, 1, 10s, 1s) != 1) break;
    ++completed;
  }
  const double elapsed = test::seconds_since(start);
  EXPECT_EQ(test::reap(echo), 0);
  EXPECT_EQ(completed, kRounds);
  EXPECT_EQ(report->wakes_timeout_with_work.load(), 0u);
  // (A timeout with no work waiting is a stall of the requester, not a lost wake-up.)
  std::printf("%llu rounds in %.2f s; echo side rung %llu times, timeouts %llu (with work %llu)\n",
              static_cast<unsigned long long>(completed), elapsed,
              static_cast<unsigned long long>(report->wakes_rung.load()),
              static_cast<unsigned long long>(report->wakes_timeout.load()),
              static_cast<unsigned long long>(report->wakes_timeout_with_work.load()));
}

// Four processes passing a token around (client -> replica 0 -> 1 -> 2 -> client) on a
// machine with fewer cores: yielding, not spinning, keeps the token moving.
TEST(Doorbell, TokenRingOfFourProcessesOnFewerCores) {
  TestSegment t("ring4", 3, 1);
  constexpr std::uint64_t kRounds = 3000;
  test::SharedBlock<PeerReport> report;
  std::vector<pid_t> replicas;
  for (std::uint32_t id = 0; id < 3; ++id) {
    replicas.push_back(test::spawn([&t, id, &report] {
      Segment s = Segment::attach(t.cluster);
      ReplicaPort r(s, id);
      std::uint64_t forwarded = 0;
      const auto start = std::chrono::steady_clock::now();
      while (forwarded < kRounds && test::seconds_since(start) < 120) {
        forwarded += r.poll([&](Endpoint, std::uint16_t, ByteView body) {
          // The client claims slot 0 first, so its generation is 1.
          r.send(id < 2 ? Endpoint::replica(id + 1) : Endpoint::client(0, 1), 1, body);
        });
        r.flush();
        if (forwarded < kRounds) r.wait(2s);
      }
      report->wakes_timeout_with_work.fetch_add(r.counters().wakes_timeout_with_work);
      return forwarded == kRounds ? 0 : 1;
    }));
  }
  ClientPort c = ClientPort::claim(t.segment);
  ASSERT_EQ(c.generation(), 1u);  // the last hop addresses generation 1
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t completed = 0;
  for (std::uint64_t i = 0; i < kRounds; ++i) {
    ASSERT_TRUE(c.send(0, 1, test::make_body(i, 64)));
    c.flush();
    if (receive_n(c, 1, 30s, 2s) != 1) break;
    ++completed;
  }
  const double elapsed = test::seconds_since(start);
  for (const pid_t pid : replicas)
    EXPECT_EQ(test::reap(pid), 0);
  EXPECT_EQ(completed, kRounds);
  EXPECT_EQ(report->wakes_timeout_with_work.load(), 0u);
  EXPECT_EQ(c.counters().wakes_timeout_with_work, 0u);
  std::printf("%llu rounds of 4 hops in %.3f s (%.1f us per round)\n",
              static_cast<unsigned long long>(kRounds), elapsed, elapsed * 1e6 / kRounds);
}

}  // namespace
}  // namespace vsr::shm
