// Client slots: claim and release, reclaiming a dead owner's slot, and generations that
// keep a previous owner's frames away from the next one.
#include <gtest/gtest.h>

#include <vector>

#include "shm/client_port.h"
#include "shm/replica_port.h"
#include "test_util.h"

namespace vsr::shm {
namespace {

using test::TestSegment;

std::vector<std::string> poll_strings(ClientPort& port) {
  std::vector<std::string> got;
  port.poll([&](Endpoint, std::uint16_t, ByteView body) { got.emplace_back(as_string(body)); });
  return got;
}

TEST(ClientSlots, ClaimReleaseAndGenerations) {
  TestSegment t("slots", 3, 2);
  {
    ClientPort a = ClientPort::claim(t.segment);
    ClientPort b = ClientPort::claim(t.segment);
    EXPECT_EQ(a.slot(), 0u);
    EXPECT_EQ(b.slot(), 1u);
    EXPECT_EQ(a.generation(), 1u);
    const auto slots = t.segment.list_client_slots();
    ASSERT_EQ(slots.size(), 2u);
    EXPECT_EQ(slots[0].pid, static_cast<std::uint32_t>(::getpid()));
    EXPECT_EQ(slots[0].generation, 1u);
    EXPECT_TRUE(slots[0].owner_alive);
    try {
      ClientPort::claim(t.segment);
      ADD_FAILURE() << "claimed a third slot of two";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::busy);
      EXPECT_NE(std::string(e.what()).find("--client-slots"), std::string::npos) << e.what();
    }
    a.release();
    EXPECT_EQ(t.segment.list_client_slots()[0].pid, 0u);
    ClientPort c = ClientPort::claim(t.segment);
    EXPECT_EQ(c.slot(), 0u);
    EXPECT_EQ(c.generation(), 2u);  // a new owner, a new generation
  }
  for (const ClientSlotInfo& s : t.segment.list_client_slots())
    EXPECT_EQ(s.pid, 0u);
}

TEST(ClientSlots, KilledOwnersSlotIsReclaimedEvenBeforeItIsReaped) {
  TestSegment t("reclaim", 3, 1);
  test::SharedBlock<std::atomic<std::uint32_t>> generation;
  const pid_t owner = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    ClientPort c = ClientPort::claim(s);
    generation->store(c.generation());
    ::pause();
    return 0;
  });
  while (generation->load() == 0)
    ::usleep(1000);
  EXPECT_THROW(ClientPort::claim(t.segment), Error);  // owner alive: slot busy
  ::kill(owner, SIGKILL);
  // Not reaped yet: a zombie counts as dead.
  for (int i = 0; i < 1000; ++i) {
    const auto start = process_start_time(static_cast<std::uint32_t>(owner));
    if (!start) break;
    ::usleep(1000);
  }
  ClientPort c = ClientPort::claim(t.segment);
  EXPECT_EQ(c.slot(), 0u);
  EXPECT_EQ(c.generation(), generation->load() + 1);
  test::reap(owner);
}

TEST(ClientSlots, ReusedPidIsNotTheOwner) {
  TestSegment t("reuse", 3, 1);
  // A slot recorded as ours but under another start time: our pid was "reused".
  OwnerSlot& slot = t.segment.client_owner(0);
  const ProcessIdentity self = self_identity();
  slot.word.store((std::uint64_t{self.pid} << 32) | 5);
  slot.stamp.store((std::uint64_t{5} << 32) | static_cast<std::uint32_t>(self.start_time + 1));
  EXPECT_FALSE(owner_alive(slot, read_owner(slot)));
  ClientPort c = ClientPort::claim(t.segment);
  EXPECT_EQ(c.generation(), 6u);
  // The same record with the right start time is a live owner.
  c.release();
  slot.word.store((std::uint64_t{self.pid} << 32) | 8);
  slot.stamp.store((std::uint64_t{8} << 32) | static_cast<std::uint32_t>(self.start_time));
  EXPECT_TRUE(owner_alive(slot, read_owner(slot)));
  EXPECT_THROW(ClientPort::claim(t.segment), Error);
  slot.word.store(0);
}

TEST(ClientSlots, StaleGenerationFramesNeverReachTheNextOwner) {
  TestSegment t("stalegen", 3, 1);
  ReplicaPort r0(t.segment, 0);
  test::SharedBlock<std::atomic<int>> sent;
  const pid_t old_owner = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    ClientPort c = ClientPort::claim(s);
    c.send(0, 1, as_bytes("old request 1"));
    c.send(0, 1, as_bytes("old request 2"));
    c.flush();
    sent->store(1);
    ::pause();
    return 0;
  });
  while (sent->load() == 0)
    ::usleep(1000);
  // The replica receives one request, then the client dies.
  std::vector<Endpoint> from;
  r0.poll([&](Endpoint f, std::uint16_t, ByteView) { from.push_back(f); });
  ASSERT_EQ(from.size(), 2u);
  const Endpoint old_client = from[0];
  EXPECT_EQ(old_client, Endpoint::client(0, 1));
  test::kill_and_reap(old_owner);
  // Replies to the dead owner are queued but not yet flushed...
  ASSERT_TRUE(r0.send(old_client, 2, as_bytes("reply to old 1")));
  // ...and the old owner's frames still sit in the ring when the next owner arrives.
  ClientPort next = ClientPort::claim(t.segment);
  EXPECT_EQ(next.generation(), 2u);
  // The sender side refuses new replies to the old generation at once.
  EXPECT_EQ(r0.send(old_client, 2, as_bytes("reply to old 2")).error, SendError::stale_generation);
  // Frames already queued for the old generation reach the ring but not the new owner.
  r0.flush();
  EXPECT_TRUE(poll_strings(next).empty());
  EXPECT_EQ(next.counters().stale_generation_received, 1u);
  // The new owner's traffic flows normally.
  ASSERT_TRUE(next.send(0, 1, as_bytes("new request")));
  next.flush();
  from.clear();
  r0.poll([&](Endpoint f, std::uint16_t, ByteView) { from.push_back(f); });
  ASSERT_EQ(from.size(), 1u);
  EXPECT_EQ(from[0], Endpoint::client(0, 2));
  ASSERT_TRUE(r0.send(from[0], 2, as_bytes("reply to new")));
  r0.flush();
  EXPECT_EQ(poll_strings(next), std::vector<std::string>{"reply to new"});
}

TEST(ClientSlots, ReplicaDropsAPreviousOwnersUnreadRequests) {
  TestSegment t("leftover", 3, 1);
  ReplicaPort r0(t.segment, 0);
  const pid_t old_owner = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    ClientPort c = ClientPort::claim(s);
    c.send(0, 1, as_bytes("left behind"));
    c.flush();
    ::_exit(0);  // no destructors: the slot stays claimed, as if the owner was killed
    return 0;
  });
  ASSERT_EQ(test::reap(old_owner), 0);
  ClientPort next = ClientPort::claim(t.segment);
  ASSERT_TRUE(next.send(0, 1, as_bytes("fresh")));
  next.flush();
  std::vector<std::string> got;
  std::vector<Endpoint> from;
  r0.poll([&](Endpoint f, std::uint16_t, ByteView body) {
    from.push_back(f);
    got.emplace_back(as_string(body));
  });
  EXPECT_EQ(got, std::vector<std::string>{"fresh"});
  EXPECT_EQ(from.at(0), next.endpoint());
  EXPECT_EQ(r0.counters().stale_generation_received, 1u);
}

// Replicas poll only the rings of claimed slots (active_slots.h): the bit follows the
// claim, survives an owner killed holding the slot, and a clear bit hides the ring.
TEST(ClientSlots, ReplicasPollOnlyClaimedSlots) {
  TestSegment t("active", 3, 4);
  ActiveSlots& active = t.segment.active_slots();
  EXPECT_FALSE(active.read().test(0));
  ReplicaPort r0(t.segment, 0);
  std::vector<std::string> got;
  auto poll = [&] {
    got.clear();
    r0.poll([&](Endpoint, std::uint16_t, ByteView body) { got.emplace_back(as_string(body)); });
    return got;
  };
  {
    ClientPort a = ClientPort::claim(t.segment);
    ClientPort b = ClientPort::claim(t.segment);
    EXPECT_TRUE(active.read().test(a.slot()));
    EXPECT_TRUE(active.read().test(b.slot()));
    EXPECT_FALSE(active.read().test(2));
    ASSERT_TRUE(a.send(0, 1, as_bytes("from a")));
    a.flush();
    EXPECT_EQ(poll(), std::vector<std::string>{"from a"});
    // With the bit cleared behind the replica's back, a's ring is not polled at all.
    active.clear(a.slot());
    ASSERT_TRUE(a.send(0, 1, as_bytes("hidden")));
    a.flush();
    EXPECT_TRUE(poll().empty());
    active.mark(a.slot());
    EXPECT_EQ(poll(), std::vector<std::string>{"hidden"});
    b.release();
    EXPECT_FALSE(active.read().test(1));
    EXPECT_TRUE(active.read().test(0));
  }
  EXPECT_FALSE(active.read().test(0));
  // An owner killed holding its slot leaves the bit set (its ring stays drained) ...
  const pid_t owner = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    ClientPort c = ClientPort::claim(s);
    c.send(0, 1, as_bytes("last words"));
    c.flush();
    ::_exit(0);  // no destructors, as if killed
    return 0;
  });
  ASSERT_EQ(test::reap(owner), 0);
  EXPECT_TRUE(active.read().test(0));
  EXPECT_EQ(poll(), std::vector<std::string>{"last words"});
  // ... and the slot's next owner (free slots go first) keeps it set.
  std::vector<ClientPort> others;
  for (int i = 0; i < 3; ++i)
    others.push_back(ClientPort::claim(t.segment));
  ClientPort next = ClientPort::claim(t.segment);
  EXPECT_EQ(next.slot(), 0u);
  for (std::uint32_t slot = 0; slot < 4; ++slot)
    EXPECT_TRUE(active.read().test(slot)) << slot;
  ASSERT_TRUE(next.send(0, 1, as_bytes("new owner")));
  next.flush();
  EXPECT_EQ(poll(), std::vector<std::string>{"new owner"});
}

// A replica asleep on its doorbell gets the first request of a client that claims its
// slot after the replica went to sleep: the client marks its slot before it pushes and
// rings, so the woken replica polls the new ring (without the mark it would sleep on
// and the test time out).
TEST(ClientSlots, SleepingReplicaWakesForANewlyClaimedSlot) {
  TestSegment t("active-wake", 3, 2);
  test::SharedBlock<std::atomic<std::uint64_t>> woke_after_us;
  const pid_t replica = test::spawn([&] {
    Segment s = Segment::attach(t.cluster);
    PortOptions options;
    options.spin_window = std::chrono::microseconds(0);  // straight to the futex
    ReplicaPort r(s, 0, options);
    const auto start = std::chrono::steady_clock::now();
    std::size_t got = 0;
    while (got == 0 && std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
      got += r.poll([](Endpoint, std::uint16_t, ByteView) {});
      if (got == 0) r.wait(std::chrono::seconds(5));
    }
    woke_after_us->store(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                              start)
            .count()));
    return got == 1 ? 0 : 1;
  });
  ::usleep(200'000);  // the replica is asleep by now
  ClientPort c = ClientPort::claim(t.segment);
  ASSERT_TRUE(c.send(0, 1, as_bytes("hello")));
  c.flush();
  EXPECT_EQ(test::reap(replica), 0);
  // Woken by the ring, not by its 5 s timeout.
  EXPECT_LT(woke_after_us->load(), 3'000'000u);
}

}  // namespace
}  // namespace vsr::shm
