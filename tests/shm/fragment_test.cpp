// Splitting messages into frames and putting them back together.
#include "shm/fragment.h"

#include <gtest/gtest.h>

#include <random>

namespace vsr::shm {
namespace {

struct Encoded {
  Bytes bytes;
  std::vector<std::pair<FrameHeader, ByteView>> frames;
};

Bytes random_body(std::size_t size, std::uint32_t seed) {
  std::mt19937 random(seed);
  Bytes b(size);
  for (auto& x : b)
    x = static_cast<std::byte>(random());
  return b;
}

// Encodes a message and parses its frames back (each checked).
Encoded encode(std::uint64_t message_id, ByteView body) {
  Encoded e;
  FrameHeader h;
  h.cluster_id = 5;
  h.message_id = message_id;
  h.kind = 3;
  h.sender_type = static_cast<std::uint8_t>(Endpoint::Type::replica);
  e.bytes.resize(framed_bytes(body.size()));
  encode_message(h, body, e.bytes.data());
  std::size_t at = 0;
  while (at < e.bytes.size()) {
    FrameHeader fh;
    ByteView fb;
    EXPECT_EQ(check_frame(ByteView(e.bytes).subspan(at), fh, fb), FrameError::none);
    e.frames.emplace_back(fh, fb);
    at += fh.length;
  }
  return e;
}

TEST(Fragment, CountsAndSizes) {
  EXPECT_EQ(fragment_count(0), 1u);
  EXPECT_EQ(fragment_count(1), 1u);
  EXPECT_EQ(fragment_count(kMaxFragmentBodyBytes), 1u);
  EXPECT_EQ(fragment_count(kMaxFragmentBodyBytes + 1), 2u);
  EXPECT_EQ(framed_bytes(0), kFrameHeaderBytes);
  EXPECT_EQ(framed_bytes(kMaxFragmentBodyBytes + 1),
            2 * kFrameHeaderBytes + kMaxFragmentBodyBytes + 1);
  EXPECT_EQ(fragment_count(kMaxMessageBytes), kMaxFragments);
}

TEST(Fragment, RoundTripsAtTheBoundaries) {
  const std::size_t sizes[] = {0,
                               1,
                               kMaxFragmentBodyBytes - 1,
                               kMaxFragmentBodyBytes,
                               kMaxFragmentBodyBytes + 1,
                               3 * kMaxFragmentBodyBytes + 5,
                               std::size_t{1} << 20};
  std::uint64_t id = 100;
  Reassembler reassembler;
  for (const std::size_t size : sizes) {
    const Bytes body = random_body(size, static_cast<std::uint32_t>(size));
    const Encoded e = encode(++id, body);
    ASSERT_EQ(e.frames.size(), fragment_count(size));
    for (std::size_t i = 0; i < e.frames.size(); ++i) {
      const auto outcome = reassembler.feed(e.frames[i].first, e.frames[i].second);
      if (i + 1 < e.frames.size()) {
        ASSERT_EQ(outcome, Reassembler::Outcome::partial) << size;
      } else {
        ASSERT_EQ(outcome, Reassembler::Outcome::complete) << size;
      }
    }
    const ByteView got = reassembler.message();
    ASSERT_EQ(got.size(), size);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), body.begin())) << size;
  }
  EXPECT_EQ(reassembler.discarded(), 0u);
}

TEST(Fragment, InterruptedMessageIsDiscardedWhenTheNextStarts) {
  const Bytes a = random_body(5 * kMaxFragmentBodyBytes, 1);
  const Bytes b = random_body(2 * kMaxFragmentBodyBytes + 7, 2);
  const Encoded ea = encode(1, a);
  const Encoded eb = encode(2, b);
  Reassembler r;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(r.feed(ea.frames[i].first, ea.frames[i].second), Reassembler::Outcome::partial);
  }
  // The producer died; its successor starts message b.
  for (std::size_t i = 0; i < eb.frames.size(); ++i) {
    r.feed(eb.frames[i].first, eb.frames[i].second);
  }
  EXPECT_EQ(r.discarded(), 1u);
  ASSERT_EQ(r.message().size(), b.size());
  EXPECT_TRUE(std::equal(b.begin(), b.end(), r.message().begin()));
  // A single-frame message interrupts too.
  const Bytes small = random_body(10, 3);
  const Encoded es = encode(3, small);
  ASSERT_EQ(r.feed(ea.frames[0].first, ea.frames[0].second), Reassembler::Outcome::partial);
  ASSERT_EQ(r.feed(es.frames[0].first, es.frames[0].second), Reassembler::Outcome::complete);
  EXPECT_EQ(r.discarded(), 2u);
  EXPECT_EQ(r.message().size(), 10u);
}

TEST(Fragment, MissingOrForeignFragmentsAreRejected) {
  const Bytes a = random_body(4 * kMaxFragmentBodyBytes, 4);
  const Encoded ea = encode(1, a);
  const Encoded ec = encode(9, a);  // same shape, other message id
  Reassembler r;
  // A continuation with nothing in progress.
  EXPECT_EQ(r.feed(ea.frames[1].first, ea.frames[1].second), Reassembler::Outcome::rejected);
  // A gap.
  ASSERT_EQ(r.feed(ea.frames[0].first, ea.frames[0].second), Reassembler::Outcome::partial);
  EXPECT_EQ(r.feed(ea.frames[2].first, ea.frames[2].second), Reassembler::Outcome::rejected);
  EXPECT_EQ(r.feed(ea.frames[3].first, ea.frames[3].second), Reassembler::Outcome::rejected);
  // Another message's fragment.
  ASSERT_EQ(r.feed(ea.frames[0].first, ea.frames[0].second), Reassembler::Outcome::partial);
  EXPECT_EQ(r.feed(ec.frames[1].first, ec.frames[1].second), Reassembler::Outcome::rejected);
  EXPECT_FALSE(r.in_progress());
  EXPECT_EQ(r.discarded(), 2u);
  // And it still works afterwards.
  for (std::size_t i = 0; i < ea.frames.size(); ++i)
    r.feed(ea.frames[i].first, ea.frames[i].second);
  EXPECT_EQ(r.message().size(), a.size());
}

}  // namespace
}  // namespace vsr::shm
