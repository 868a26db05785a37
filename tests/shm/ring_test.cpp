// Byte rings: empty, full, exact fit, wrap-around, whole-frame publication.
#include "shm/ring.h"

#include <gtest/gtest.h>

#include <memory>
#include <numeric>

namespace vsr::shm {
namespace {

Bytes pattern(std::size_t size, int seed) {
  Bytes b(size);
  for (std::size_t i = 0; i < size; ++i)
    b[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return b;
}

TEST(Ring, EmptyRingPopsNothing) {
  auto ring = std::make_unique<ClientRing>();
  Bytes out(kClientRingBytes);
  EXPECT_EQ(ring->read_available(), 0u);
  EXPECT_EQ(ring->write_available(), kClientRingBytes);
  EXPECT_EQ(pop_all(*ring, out.data(), out.size()), 0u);
}

TEST(Ring, ExactFitThenFull) {
  auto ring = std::make_unique<ClientRing>();
  const Bytes all = pattern(kClientRingBytes, 1);
  EXPECT_TRUE(push_whole(*ring, all));
  EXPECT_EQ(ring->write_available(), 0u);
  EXPECT_FALSE(push_whole(*ring, pattern(1, 2)));  // full: nothing published
  EXPECT_EQ(ring->read_available(), kClientRingBytes);
  Bytes out(kClientRingBytes);
  EXPECT_EQ(pop_all(*ring, out.data(), out.size()), kClientRingBytes);
  EXPECT_EQ(out, all);
  EXPECT_EQ(ring->write_available(), kClientRingBytes);
}

TEST(Ring, PushWholeNeverPublishesAPart) {
  auto ring = std::make_unique<ClientRing>();
  ASSERT_TRUE(push_whole(*ring, pattern(kClientRingBytes - 100, 1)));
  EXPECT_FALSE(push_whole(*ring, pattern(101, 2)));
  EXPECT_EQ(ring->read_available(), kClientRingBytes - 100);  // unchanged
  EXPECT_TRUE(push_whole(*ring, pattern(100, 3)));
  EXPECT_EQ(ring->write_available(), 0u);
}

TEST(Ring, WrapAroundKeepsBytesInOrder) {
  auto ring = std::make_unique<ClientRing>();
  Bytes out(kClientRingBytes);
  // Sizes that do not divide the capacity, so pushes and pops straddle the end.
  std::size_t total = 0;
  for (int round = 0; round < 200; ++round) {
    const std::size_t size = 7919 + static_cast<std::size_t>(round) * 13;
    const Bytes data = pattern(size, round);
    ASSERT_TRUE(push_whole(*ring, data));
    ASSERT_EQ(pop_all(*ring, out.data(), out.size()), size);
    ASSERT_TRUE(std::equal(data.begin(), data.end(), out.begin())) << round;
    total += size;
  }
  EXPECT_GT(total, 10 * kClientRingBytes);
}

TEST(Ring, PopTakesEverythingAvailableAtOnce) {
  auto ring = std::make_unique<ReplicaRing>();
  Bytes expected;
  for (int i = 0; i < 10; ++i) {
    const Bytes chunk = pattern(1000 + i, i);
    ASSERT_TRUE(push_whole(*ring, chunk));
    expected.insert(expected.end(), chunk.begin(), chunk.end());
  }
  Bytes out(kReplicaRingBytes);
  ASSERT_EQ(pop_all(*ring, out.data(), out.size()), expected.size());
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), out.begin()));
}

TEST(Ring, RingRefDispatchesToEitherKind) {
  auto replica = std::make_unique<ReplicaRing>();
  auto client = std::make_unique<ClientRing>();
  RingRef r(replica.get());
  RingRef c(client.get());
  EXPECT_EQ(r.capacity(), kReplicaRingBytes);
  EXPECT_EQ(c.capacity(), kClientRingBytes);
  EXPECT_TRUE(r.push_whole(pattern(5000, 1)));
  EXPECT_TRUE(c.push_whole(pattern(6000, 2)));
  EXPECT_EQ(r.read_available(), 5000u);
  EXPECT_EQ(c.read_available(), 6000u);
  EXPECT_EQ(c.write_available(), kClientRingBytes - 6000);
  Bytes out(kReplicaRingBytes);
  EXPECT_EQ(r.pop_all(out.data(), out.size()), 5000u);
  EXPECT_EQ(c.pop_all(out.data(), out.size()), 6000u);
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 6000, pattern(6000, 2).begin()));
}

}  // namespace
}  // namespace vsr::shm
