// Corrupt frames written straight into a ring are dropped and counted; the receiver
// keeps working and delivers the valid frames around them.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "shm/client_port.h"
#include "shm/fragment.h"
#include "shm/replica_port.h"
#include "test_util.h"

namespace vsr::shm {
namespace {

using test::TestSegment;

// Encodes a whole message as replica `sender` of `cluster_id` would.
Bytes message_frames(std::uint64_t cluster_id, Endpoint sender, std::uint64_t id, ByteView body,
                     std::uint32_t generation = 0) {
  FrameHeader h;
  h.cluster_id = cluster_id;
  h.message_id = id;
  h.kind = 4;
  h.sender_type = static_cast<std::uint8_t>(sender.type);
  h.sender_index = static_cast<std::uint16_t>(sender.index);
  h.slot_generation = generation;
  Bytes out(framed_bytes(body.size()));
  encode_message(h, body, out.data());
  return out;
}

void reseal(Bytes& frame) {
  const std::uint64_t sum = frame_checksum(frame);
  std::memcpy(frame.data(), &sum, 8);
}

class CorruptFrames : public ::testing::Test {
 protected:
  TestSegment t{"corrupt", 2, 1};
  ReplicaPort r0{t.segment, 0};
  ReplicaRing& ring = t.segment.replica_ring(1, 0);  // we play replica 1
  std::mt19937_64 random{12345};
  std::uint64_t next_id = 1;

  Bytes valid(std::uint64_t seq, std::size_t size) {
    return message_frames(t.segment.cluster_id(), Endpoint::replica(1), next_id++,
                          test::make_body(seq, size));
  }
  std::vector<std::uint64_t> poll_seqs() {
    std::vector<std::uint64_t> seqs;
    r0.poll([&](Endpoint from, std::uint16_t, ByteView body) {
      EXPECT_EQ(from, Endpoint::replica(1));
      seqs.push_back(test::check_body(body));
    });
    return seqs;
  }
  // One kind of damage, chosen by `kind`; returns the bytes to inject.
  Bytes corrupt(int kind) {
    const std::uint64_t cluster = t.segment.cluster_id();
    Bytes f = valid(999999, 16 + random() % 3000);
    switch (kind) {
      case 0: {  // random bytes
        Bytes g(1 + random() % 5000);
        for (auto& b : g)
          b = static_cast<std::byte>(random());
        return g;
      }
      case 1:  // one flipped body bit
        f[kFrameHeaderBytes + random() % (f.size() - kFrameHeaderBytes)] ^= std::byte{0x10};
        return f;
      case 2: {  // length over the maximum
        const std::uint32_t length = kMaxFrameBytes + 1 + random() % 100000;
        std::memcpy(f.data() + 12, &length, 4);
        return f;
      }
      case 3: {  // length below a header
        const std::uint32_t length = random() % kFrameHeaderBytes;
        std::memcpy(f.data() + 12, &length, 4);
        return f;
      }
      case 4: {  // length that swallows what follows
        const std::uint32_t length = static_cast<std::uint32_t>(f.size() + 500);
        std::memcpy(f.data() + 12, &length, 4);
        return f;
      }
      case 5:  // a torn frame: only its first bytes
        f.resize(1 + random() % (f.size() - 1));
        return f;
      case 6:  // verifies, but from another cluster
        return message_frames(cluster + 1, Endpoint::replica(1), 1, test::make_body(1, 40));
      case 7:  // verifies, but claims another sender than the ring's producer
        return message_frames(cluster, Endpoint::replica(0), 1, test::make_body(1, 40));
      case 8:  // verifies, but a client on a replica ring
        return message_frames(cluster, Endpoint::client(1, 3), 1, test::make_body(1, 40), 3);
      case 9: {  // verifies, but a replica frame with a slot generation
        return message_frames(cluster, Endpoint::replica(1), 1, test::make_body(1, 40), 5);
      }
      case 10: {  // verifies, but a nonzero reserved byte
        f[51] = std::byte{1};
        reseal(f);
        return f;
      }
      case 11: {  // a fragmented message with a damaged middle fragment
        Bytes m = valid(999998, 3 * kMaxFragmentBodyBytes);
        m[kMaxFrameBytes + kFrameHeaderBytes + 10] ^= std::byte{1};
        return m;
      }
      default: {  // magic damaged
        f[9] ^= std::byte{0xff};
        return f;
      }
    }
  }
  static constexpr int kKinds = 13;
};

TEST_F(CorruptFrames, EachKindIsDroppedAndCountedAndValidNeighboursArrive) {
  for (int kind = 0; kind < kKinds; ++kind) {
    const std::uint64_t bad_before = r0.counters().bad_frames();
    const std::uint64_t before = r0.counters().bad_frames() + r0.counters().fragments_out_of_order;
    Bytes batch = valid(2 * kind, 100);
    const Bytes bad = corrupt(kind);
    batch.insert(batch.end(), bad.begin(), bad.end());
    const Bytes after = valid(2 * kind + 1, 200);
    batch.insert(batch.end(), after.begin(), after.end());
    ASSERT_TRUE(push_whole(ring, batch));
    const auto seqs = poll_seqs();
    EXPECT_EQ(seqs, (std::vector<std::uint64_t>{2u * kind, 2u * kind + 1})) << "kind " << kind;
    EXPECT_GT(r0.counters().bad_frames() + r0.counters().fragments_out_of_order, before)
        << "kind " << kind;
    EXPECT_GT(r0.counters().bad_frames(), bad_before) << "kind " << kind;
  }
  EXPECT_GT(r0.counters().bad_checksum, 0u);
  EXPECT_GT(r0.counters().bad_length, 0u);
  EXPECT_GT(r0.counters().bad_cluster, 0u);
  EXPECT_GT(r0.counters().bad_sender, 0u);
  EXPECT_GT(r0.counters().bad_generation, 0u);
  EXPECT_GT(r0.counters().bad_reserved, 0u);
  EXPECT_GT(r0.counters().bad_magic + r0.counters().bytes_skipped, 0u);
}

TEST_F(CorruptFrames, RandomMixturesNeverCrashAndLoseNoValidFrame) {
  std::uint64_t seq = 0;
  std::uint64_t injected_bad = 0;
  for (int round = 0; round < 3000; ++round) {
    Bytes batch;
    std::vector<std::uint64_t> expected;
    const int items = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < items; ++i) {
      if (random() % 3 == 0) {
        const Bytes bad = corrupt(static_cast<int>(random() % kKinds));
        if (batch.size() + bad.size() > kReplicaRingBytes / 2) break;
        batch.insert(batch.end(), bad.begin(), bad.end());
        ++injected_bad;
      } else {
        const Bytes good = valid(seq, 16 + random() % 2000);
        batch.insert(batch.end(), good.begin(), good.end());
        expected.push_back(seq++);
      }
    }
    ASSERT_TRUE(push_whole(ring, batch));
    ASSERT_EQ(poll_seqs(), expected) << "round " << round;
  }
  EXPECT_GT(injected_bad, 500u);
  EXPECT_GT(r0.counters().bad_frames(), 0u);
  // A real replica 1 still gets through.
  ReplicaPort r1(t.segment, 1);
  ASSERT_TRUE(r1.send(Endpoint::replica(0), 1, test::make_body(424242, 5000)));
  r1.flush();
  EXPECT_EQ(poll_seqs(), std::vector<std::uint64_t>{424242});
}

TEST_F(CorruptFrames, ClientSurvivesGarbageFromAReplicaRing) {
  ClientPort c = ClientPort::claim(t.segment);
  ClientRing& to_client = t.segment.replica_to_client_ring(1, c.slot());
  for (int round = 0; round < 500; ++round) {
    Bytes batch = corrupt(static_cast<int>(random() % kKinds));
    if (batch.size() > kClientRingBytes / 2) batch.resize(kClientRingBytes / 2);
    const Bytes good = message_frames(t.segment.cluster_id(), Endpoint::replica(1), next_id++,
                                      test::make_body(round, 64), c.generation());
    batch.insert(batch.end(), good.begin(), good.end());
    ASSERT_TRUE(push_whole(to_client, batch));
    std::vector<std::uint64_t> seqs;
    c.poll([&](Endpoint, std::uint16_t, ByteView body) { seqs.push_back(test::check_body(body)); });
    ASSERT_EQ(seqs, std::vector<std::uint64_t>{static_cast<std::uint64_t>(round)}) << round;
  }
  EXPECT_GT(c.counters().bad_frames(), 0u);
}

}  // namespace
}  // namespace vsr::shm
