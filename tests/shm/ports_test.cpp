// Ports in one process: delivery, batching, big messages, link cuts, outbox bounds,
// replica-id ownership. (Several ports of different identities may live in one process.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "shm/client_port.h"
#include "shm/replica_port.h"
#include "test_util.h"

namespace vsr::shm {
namespace {

using test::TestSegment;

struct Received {
  Endpoint from;
  std::uint16_t kind;
  Bytes body;
};

template <typename Port>
std::vector<Received> drain(Port& port) {
  std::vector<Received> got;
  port.poll([&](Endpoint from, std::uint16_t kind, ByteView body) {
    got.push_back(Received{from, kind, Bytes(body.begin(), body.end())});
  });
  return got;
}

TEST(Ports, ReplicaToReplicaDeliversInOrder) {
  TestSegment t("r2r");
  ReplicaPort r0(t.segment, 0);
  ReplicaPort r1(t.segment, 1);
  ReplicaPort r2(t.segment, 2);
  for (std::uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(r0.send(Endpoint::replica(1), 5, test::make_body(i, 16 + i)));
  }
  ASSERT_TRUE(r2.send(Endpoint::replica(1), 6, test::make_body(1000, 64)));
  EXPECT_EQ(drain(r1).size(), 0u);  // nothing leaves before flush()
  r0.flush();
  r2.flush();
  EXPECT_EQ(r0.counters().pushes, 1u);  // 100 frames batched into one push
  EXPECT_EQ(r0.counters().frames_pushed, 100u);
  const auto got = drain(r1);
  ASSERT_EQ(got.size(), 101u);
  std::uint64_t next = 0;
  for (const Received& m : got) {
    if (m.from == Endpoint::replica(2)) {
      EXPECT_EQ(m.kind, 6);
      EXPECT_EQ(test::check_body(m.body), 1000u);
      continue;
    }
    EXPECT_EQ(m.from, Endpoint::replica(0));
    EXPECT_EQ(m.kind, 5);
    EXPECT_EQ(test::check_body(m.body), next++);
  }
  EXPECT_EQ(r1.counters().messages_received, 101u);
  EXPECT_EQ(r1.counters().bad_frames(), 0u);
}

TEST(Ports, ClientRequestAndReplyCarryTheSlotGeneration) {
  TestSegment t("c2r");
  ReplicaPort r0(t.segment, 0);
  ClientPort c = ClientPort::claim(t.segment);
  EXPECT_EQ(c.slot(), 0u);
  EXPECT_EQ(c.generation(), 1u);
  ASSERT_TRUE(c.send(0, 1, as_bytes("request")));
  c.flush();
  const auto requests = drain(r0);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].from, Endpoint::client(0, 1));
  EXPECT_EQ(as_string(requests[0].body), "request");
  ASSERT_TRUE(r0.send(requests[0].from, 2, as_bytes("reply")));
  r0.flush();
  const auto replies = drain(c);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].from, Endpoint::replica(0));
  EXPECT_EQ(replies[0].kind, 2);
  EXPECT_EQ(as_string(replies[0].body), "reply");
}

TEST(Ports, LargestMessageCrossesTheRingInFragments) {
  TestSegment t("big", 2, 0);
  ReplicaPort r0(t.segment, 0);
  ReplicaPort r1(t.segment, 1);
  const Bytes big = test::make_body(77, kMaxMessageBytes);
  ASSERT_TRUE(r0.send(Endpoint::replica(1), 9, big));
  ASSERT_TRUE(r0.send(Endpoint::replica(1), 10, test::make_body(78, 100)));
  std::vector<Received> got;
  for (int rounds = 0; rounds < 10000 && got.size() < 2; ++rounds) {
    r0.flush();
    auto batch = drain(r1);
    for (auto& m : batch)
      got.push_back(std::move(m));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kind, 9);
  EXPECT_EQ(got[0].body.size(), kMaxMessageBytes);
  EXPECT_EQ(test::check_body(got[0].body), 77u);
  EXPECT_EQ(test::check_body(got[1].body), 78u);
  EXPECT_EQ(r0.pending_bytes(), 0u);
  EXPECT_EQ(r1.counters().frames_received, kMaxFragments + 1);
}

TEST(Ports, TooBigIsAClearErrorAtSend) {
  TestSegment t("toobig", 2, 0);
  ReplicaPort r0(t.segment, 0);
  const Bytes body(kMaxMessageBytes + 1);
  const SendResult result = r0.send(Endpoint::replica(1), 1, body);
  EXPECT_FALSE(result);
  EXPECT_EQ(result.error, SendError::too_big);
  EXPECT_NE(std::string(result.message()).find("64 MiB"), std::string::npos);
  EXPECT_EQ(r0.counters().dropped_too_big, 1u);
  EXPECT_EQ(r0.pending_bytes(), 0u);
}

TEST(Ports, CutLinkDropsAndCounts) {
  TestSegment t("cut");
  ReplicaPort r0(t.segment, 0);
  ReplicaPort r1(t.segment, 1);
  ReplicaPort r2(t.segment, 2);
  t.segment.links().set(0, 1, false);
  const SendResult cut = r0.send(Endpoint::replica(1), 1, as_bytes("x"));
  EXPECT_EQ(cut.error, SendError::link_cut);
  EXPECT_TRUE(r0.send(Endpoint::replica(2), 1, as_bytes("y")));  // other links stay up
  EXPECT_TRUE(r1.send(Endpoint::replica(0), 1, as_bytes("z")));  // and the reverse direction
  r0.flush();
  r1.flush();
  EXPECT_EQ(drain(r1).size(), 0u);
  EXPECT_EQ(drain(r2).size(), 1u);
  EXPECT_EQ(drain(r0).size(), 1u);
  EXPECT_EQ(r0.counters().dropped_link_cut, 1u);

  // Frames queued before the cut are dropped at flush, not delivered late.
  t.segment.links().heal_all();
  ASSERT_TRUE(r0.send(Endpoint::replica(1), 1, as_bytes("a")));
  ASSERT_TRUE(r0.send(Endpoint::replica(1), 1, as_bytes("b")));
  t.segment.links().isolate(1);
  r0.flush();
  EXPECT_EQ(r0.counters().frames_discarded, 2u);
  EXPECT_EQ(drain(r1).size(), 0u);
  t.segment.links().heal_all();
  ASSERT_TRUE(r0.send(Endpoint::replica(1), 1, as_bytes("c")));
  r0.flush();
  const auto got = drain(r1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(as_string(got[0].body), "c");
}

TEST(Ports, OutboxBoundDropsAndCountsWithoutBlocking) {
  TestSegment t("bound", 2, 0);
  PortOptions options;
  options.outbox_bytes_max = 256 << 10;
  ReplicaPort r0(t.segment, 0, options);
  ReplicaPort r1(t.segment, 1);
  // Nobody drains r1: the ring fills (1 MiB), then the outbox (256 KiB), then drops.
  const Bytes body(4000);
  int accepted = 0;
  int dropped = 0;
  for (int i = 0; i < 2000; ++i) {
    const SendResult result = r0.send(Endpoint::replica(1), 1, body);
    if (result) {
      ++accepted;
    } else {
      EXPECT_EQ(result.error, SendError::outbox_full);
      ++dropped;
    }
    r0.flush();
  }
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(r0.counters().dropped_outbox_full, static_cast<std::uint64_t>(dropped));
  EXPECT_LE(r0.pending_bytes(), options.outbox_bytes_max);
  EXPECT_GT(r0.pending_bytes(), options.outbox_bytes_max - framed_bytes(4000));
  // Everything accepted is delivered once the receiver drains.
  std::size_t delivered = 0;
  for (int round = 0; round < 100 && delivered < static_cast<std::size_t>(accepted); ++round) {
    delivered += drain(r1).size();
    r0.flush();
  }
  EXPECT_EQ(delivered, static_cast<std::size_t>(accepted));
}

TEST(Ports, ReplicaIdIsHeldByOneProcess) {
  TestSegment t("own");
  ReplicaPort r0(t.segment, 0);
  EXPECT_EQ(r0.incarnation(), 1u);
  EXPECT_EQ(t.segment.replica_owner_info(0).pid, static_cast<std::uint32_t>(::getpid()));
  try {
    ReplicaPort again(t.segment, 0);
    ADD_FAILURE() << "second claim of replica 0 succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::busy);
    EXPECT_NE(std::string(e.what()).find("already attached"), std::string::npos);
  }
  EXPECT_THROW(ReplicaPort(t.segment, 3), Error);
  {
    ReplicaPort moved = std::move(r0);  // moving keeps the claim
    EXPECT_EQ(t.segment.replica_owner_info(0).pid, static_cast<std::uint32_t>(::getpid()));
  }
  EXPECT_FALSE(t.segment.replica_owner_info(0).claimed());
  ReplicaPort next(t.segment, 0);
  EXPECT_EQ(next.incarnation(), 2u);
}

// A child that plays the supervisor: 50 ms from now it reports replica 2 dead, which
// rings every replica's doorbell unconditionally.
pid_t hint_replica_2_down_in_50ms(const std::string& cluster) {
  return test::spawn([cluster] {
    ::usleep(50'000);
    Segment s = Segment::attach(cluster);
    s.signal_replica_down(2);
    return 0;
  });
}

TEST(Ports, SupervisorHintWakesAWaitingReplica) {
  TestSegment t("hint");
  ReplicaPort r1(t.segment, 1);
  const std::uint64_t seen = t.segment.replica_down_count(2);
  const pid_t supervisor = hint_replica_2_down_in_50ms(t.cluster);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(r1.wait(std::chrono::seconds(10)));
  EXPECT_LT(test::seconds_since(start), 5.0);
  EXPECT_EQ(t.segment.replica_down_count(2), seen + 1);
  EXPECT_EQ(r1.counters().wakes_rung, 1u);
  EXPECT_EQ(test::reap(supervisor), 0);
}

TEST(Ports, ANapAsksNoSenderToRingAndLastsItsTimeout) {
  TestSegment t("nap");
  ReplicaPort r0(t.segment, 0);
  // A sender that pushes while r0 naps: it rings nothing (r0 never declared sleep), so
  // its exit code is 0 only if no wake was sent.
  const pid_t sender = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    ReplicaPort r1(s, 1);
    ::usleep(10'000);
    const std::byte body[8] = {};
    if (!r1.send(Endpoint::replica(0), 1, ByteView(body, 8))) return 2;
    r1.flush();
    return r1.counters().wakes_sent == 0 ? 0 : 1;
  });
  const auto start = std::chrono::steady_clock::now();
  r0.nap(std::chrono::milliseconds(60));  // the frame lands 10 ms in: the nap goes on
  EXPECT_GE(test::seconds_since(start), 0.059);
  EXPECT_EQ(test::reap(sender), 0);
  EXPECT_EQ(r0.counters().naps, 1u);
  std::size_t got = 0;
  r0.poll([&](Endpoint, std::uint16_t, ByteView) { ++got; });
  EXPECT_EQ(got, 1u);
}

TEST(Ports, ASupervisorHintEndsANap) {
  TestSegment t("naphint");
  ReplicaPort r1(t.segment, 1);
  const pid_t supervisor = hint_replica_2_down_in_50ms(t.cluster);
  const auto start = std::chrono::steady_clock::now();
  r1.nap(std::chrono::seconds(10));
  EXPECT_LT(test::seconds_since(start), 5.0);
  EXPECT_EQ(test::reap(supervisor), 0);
}

// A stand-in for /proc/loadavg whose running count the test chooses.
struct FakeLoadavg {
  explicit FakeLoadavg(std::uint32_t running) { set(running); }
  ~FakeLoadavg() { std::remove(path.c_str()); }
  void set(std::uint32_t running) {
    const std::string line = "0.00 0.00 0.00 " + std::to_string(running) + "/100 1\n";
    const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    ::close(fd);
  }
  std::string path = "/tmp/vsr-ports-loadavg-" + std::to_string(::getpid());
};

constexpr std::uint32_t kIdle = 1;          // only the reader runs
constexpr std::uint32_t kBusy = 1'000'000;  // more runnable tasks than any machine's CPUs

// r0 waits in its yield window (200 ms) with the runnable count read from a file; a
// window with uncontended polling yields once per 40 ms.
class UncontendedWindow : public ::testing::Test {
 protected:
  UncontendedWindow() : loadavg_(kIdle), r0_(t_.segment, 0, options()), r1_(t_.segment, 1) {}
  PortOptions options() const {
    PortOptions o;
    o.spin_window = std::chrono::milliseconds(200);
    o.uncontended_poll = std::chrono::milliseconds(40);
    o.loadavg_path = loadavg_.path;
    return o;
  }
  // A window in which nothing arrives; returns its yields.
  std::uint64_t empty_window() {
    send_and_flush(r0_, 1);  // work: the next wait opens a window
    const std::uint64_t before = r0_.counters().window_yields;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(r0_.wait(std::chrono::milliseconds(300)));
    EXPECT_GE(test::seconds_since(start), 0.299);
    return r0_.counters().window_yields - before;
  }
  // A window in which r1 sends after 200 us; returns the yields before r0 saw it.
  std::uint64_t window_with_message() {
    send_and_flush(r0_, 1);
    const std::uint64_t before = r0_.counters().window_yields;
    const std::uint64_t seen_before = r0_.counters().wakes_in_window;
    std::thread sender([&] {
      ::usleep(200);
      send_and_flush(r1_, 0);
    });
    EXPECT_TRUE(r0_.wait(std::chrono::seconds(5)));
    sender.join();
    EXPECT_EQ(r0_.counters().wakes_in_window, seen_before + 1);
    std::size_t got = 0;
    r0_.poll([&](Endpoint from, std::uint16_t, ByteView) {
      EXPECT_EQ(from, Endpoint::replica(1));
      ++got;
    });
    EXPECT_EQ(got, 1u);
    return r0_.counters().window_yields - before;
  }
  static void send_and_flush(ReplicaPort& from, std::uint32_t to) {
    const std::byte body[8] = {};
    EXPECT_TRUE(from.send(Endpoint::replica(to), 1, ByteView(body, 8)));
    from.flush();
  }

  FakeLoadavg loadavg_;
  TestSegment t_{"uncontended"};
  ReplicaPort r0_;
  ReplicaPort r1_;
};

TEST_F(UncontendedWindow, PollsFirstAndYieldsOncePerPoll) {
  // The first window yields first (nothing read yet), reads "idle", then polls in 40 ms
  // stretches: a yield at 0, 40, 80, 120, 160 ms.
  const std::uint64_t yields = empty_window();
  EXPECT_GE(yields, 2u);
  EXPECT_LE(yields, 7u);
  EXPECT_EQ(window_with_message(), 0u);  // seen at once, before any yield
  EXPECT_GE(r0_.counters().uncontended_waits, 1u);
}

TEST_F(UncontendedWindow, WithContentionYieldsBetweenPolls) {
  loadavg_.set(kBusy);
  EXPECT_GE(empty_window(), 8u);  // 200 ms of yield-polling
  EXPECT_GE(window_with_message(), 1u);
  EXPECT_EQ(r0_.counters().uncontended_waits, 0u);
}

TEST_F(UncontendedWindow, ANewReadingOfContentionEndsPollingFirst) {
  empty_window();  // reads "idle"
  loadavg_.set(kBusy);
  ::usleep(3000);  // the reading is due again (CpuContention::kInterval)
  const std::uint64_t polled_first = r0_.counters().uncontended_waits;
  EXPECT_GE(empty_window(), 8u);  // re-read on entry: yield-polls the whole window
  EXPECT_EQ(r0_.counters().uncontended_waits, polled_first);
}

TEST(Ports, IdleWaitTimesOut) {
  TestSegment t("idle");
  ReplicaPort r0(t.segment, 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(r0.wait(std::chrono::milliseconds(20)));
  const double elapsed = test::seconds_since(start);
  EXPECT_GE(elapsed, 0.019);
  EXPECT_LT(elapsed, 1.0);
  EXPECT_EQ(r0.counters().wakes_timeout, 1u);
}

}  // namespace
}  // namespace vsr::shm
