// The outbox on its own: bounds, whole-frame prefixes, compaction.
#include "shm/outbox.h"

#include <gtest/gtest.h>

#include "shm/fragment.h"

namespace vsr::shm {
namespace {

// Queues one message of `body_bytes`; returns false if the outbox bound refused it.
bool queue(Outbox& outbox, std::size_t body_bytes, std::uint64_t id) {
  const std::size_t bytes = framed_bytes(body_bytes);
  if (!outbox.fits(bytes)) return false;
  FrameHeader h;
  h.message_id = id;
  h.sender_type = static_cast<std::uint8_t>(Endpoint::Type::replica);
  const Bytes body(body_bytes, std::byte{7});
  encode_message(h, body, outbox.append(bytes, fragment_count(body_bytes)));
  return true;
}

TEST(Outbox, BoundRefusesWholeMessages) {
  Outbox outbox(64 << 10);
  int queued = 0;
  while (queue(outbox, 1000, static_cast<std::uint64_t>(queued)))
    ++queued;
  EXPECT_EQ(queued, static_cast<int>((64 << 10) / framed_bytes(1000)));
  EXPECT_LE(outbox.pending_bytes(), std::size_t{64} << 10);
  EXPECT_EQ(outbox.pending_frames(), static_cast<std::size_t>(queued));
}

TEST(Outbox, FittingPrefixTakesWholeFramesOnly) {
  Outbox outbox(1 << 20);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(queue(outbox, 100, static_cast<std::uint64_t>(i)));
  const std::size_t frame = framed_bytes(100);
  EXPECT_EQ(outbox.first_frame_bytes(), frame);
  auto p = outbox.fitting_prefix(3 * frame + frame / 2);
  EXPECT_EQ(p.frames, 3u);
  EXPECT_EQ(p.bytes, 3 * frame);
  EXPECT_EQ(outbox.fitting_prefix(frame - 1).frames, 0u);
  EXPECT_EQ(outbox.fitting_prefix(1 << 20).frames, 10u);
  outbox.consume(p);
  EXPECT_EQ(outbox.pending_frames(), 7u);
  EXPECT_EQ(outbox.pending_bytes(), 7 * frame);
  FrameHeader h;
  ByteView body;
  ASSERT_EQ(check_frame(outbox.pending(), h, body), FrameError::none);
  EXPECT_EQ(h.message_id, 3u);  // the fourth message is next
}

TEST(Outbox, KeepsOrderAcrossCompactionAndGrowth) {
  Outbox outbox(256 << 10);
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  for (int round = 0; round < 2000; ++round) {
    while (queue(outbox, 50 + (next_in * 37) % 3000, next_in))
      ++next_in;
    // Take a varying number of frames off the front.
    const auto p = outbox.fitting_prefix((round % 7 + 1) * 4000);
    std::size_t at = 0;
    for (std::size_t f = 0; f < p.frames; ++f) {
      FrameHeader h;
      ByteView body;
      ASSERT_EQ(check_frame(outbox.pending().subspan(at), h, body), FrameError::none);
      ASSERT_EQ(h.message_id, next_out++);
      at += h.length;
    }
    outbox.consume(p);
  }
  EXPECT_GT(next_out, 10000u);
  EXPECT_EQ(outbox.clear(), next_in - next_out);
  EXPECT_TRUE(outbox.empty());
}

}  // namespace
}  // namespace vsr::shm
