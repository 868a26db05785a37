// Frames: encoding, and the validation of every header field.
#include "shm/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

namespace vsr::shm {
namespace {

FrameHeader sample_header() {
  FrameHeader h;
  h.cluster_id = 0x1122334455667788;
  h.message_id = 42;
  h.kind = 7;
  h.sender_type = static_cast<std::uint8_t>(Endpoint::Type::client);
  h.sender_index = 3;
  h.slot_generation = 9;
  return h;
}

Bytes encode(const FrameHeader& header, std::size_t body_size) {
  Bytes body(body_size);
  for (std::size_t i = 0; i < body_size; ++i)
    body[i] = static_cast<std::byte>(i * 13 + 1);
  FrameHeader h = header;
  h.message_length = static_cast<std::uint32_t>(body_size);
  h.fragment_count = static_cast<std::uint32_t>(fragment_count(body_size));
  Bytes out(kFrameHeaderBytes + body_size);
  EXPECT_EQ(encode_frame(h, body, out.data()), out.size());
  return out;
}

// Rewrites one header field (as raw bytes) and re-seals the checksum, so that the
// checks after the checksum are exercised.
template <typename T>
void set_field(Bytes& frame, std::size_t offset, T value, bool reseal = true) {
  std::memcpy(frame.data() + offset, &value, sizeof value);
  if (reseal) {
    const std::uint64_t sum = frame_checksum(frame);
    std::memcpy(frame.data(), &sum, 8);
  }
}

FrameError check(const Bytes& frame) {
  FrameHeader h;
  ByteView body;
  return check_frame(frame, h, body);
}

TEST(Frame, EncodeThenCheckRoundTripsEveryField) {
  const Bytes frame = encode(sample_header(), 100);
  FrameHeader h;
  ByteView body;
  ASSERT_EQ(check_frame(frame, h, body), FrameError::none);
  EXPECT_EQ(h.magic, kFrameMagic);
  EXPECT_EQ(h.length, kFrameHeaderBytes + 100);
  EXPECT_EQ(h.cluster_id, 0x1122334455667788u);
  EXPECT_EQ(h.message_id, 42u);
  EXPECT_EQ(h.message_length, 100u);
  EXPECT_EQ(h.fragment_index, 0u);
  EXPECT_EQ(h.fragment_count, 1u);
  EXPECT_EQ(h.slot_generation, 9u);
  EXPECT_EQ(h.kind, 7);
  EXPECT_EQ(h.sender(), Endpoint::client(3, 9));
  ASSERT_EQ(body.size(), 100u);
  for (std::size_t i = 0; i < 100; ++i)
    EXPECT_EQ(body[i], static_cast<std::byte>(i * 13 + 1));
  EXPECT_EQ(check_sender(h, 0x1122334455667788, Endpoint::client(3, 0)), FrameError::none);
}

TEST(Frame, EmptyBodyIsAValidFrame) {
  const Bytes frame = encode(sample_header(), 0);
  EXPECT_EQ(frame.size(), kFrameHeaderBytes);
  EXPECT_EQ(check(frame), FrameError::none);
}

TEST(Frame, LargestFragmentBodyFits) {
  const Bytes frame = encode(sample_header(), kMaxFragmentBodyBytes);
  EXPECT_EQ(frame.size(), kMaxFrameBytes);
  EXPECT_EQ(check(frame), FrameError::none);
}

TEST(Frame, EveryFlippedBitIsDetected) {
  const Bytes good = encode(sample_header(), 40);
  for (std::size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = good;
      bad[byte] ^= static_cast<std::byte>(1 << bit);
      EXPECT_NE(check(bad), FrameError::none) << "byte " << byte << " bit " << bit;
    }
  }
}

TEST(Frame, ShortInputIsTruncated) {
  const Bytes good = encode(sample_header(), 40);
  for (std::size_t size = 0; size < good.size(); ++size) {
    const Bytes prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size));
    EXPECT_EQ(check(prefix), FrameError::truncated) << size;
  }
}

TEST(Frame, EachFieldIsChecked) {
  const Bytes good = encode(sample_header(), 40);
  struct Case {
    const char* name;
    std::function<void(Bytes&)> mutate;
    FrameError expected;
  };
  const Case cases[] = {
      {"magic", [](Bytes& f) { set_field<std::uint32_t>(f, 8, 0x12345678); },
       FrameError::bad_magic},
      {"length below header", [](Bytes& f) { set_field<std::uint32_t>(f, 12, 10, false); },
       FrameError::bad_length},
      {"length above max",
       [](Bytes& f) { set_field<std::uint32_t>(f, 12, kMaxFrameBytes + 1, false); },
       FrameError::bad_length},
      {"length beyond input", [](Bytes& f) { set_field<std::uint32_t>(f, 12, 200, false); },
       FrameError::truncated},
      {"checksum", [](Bytes& f) { set_field<std::uint64_t>(f, 0, 1, false); },
       FrameError::bad_checksum},
      {"reserved0", [](Bytes& f) { set_field<std::uint8_t>(f, 51, 1); }, FrameError::bad_reserved},
      {"reserved1", [](Bytes& f) { set_field<std::uint16_t>(f, 54, 1); }, FrameError::bad_reserved},
      {"message_length", [](Bytes& f) { set_field<std::uint32_t>(f, 32, 41); },
       FrameError::bad_fragment},
      {"message_length over max",
       [](Bytes& f) { set_field<std::uint32_t>(f, 32, kMaxMessageBytes + 1); },
       FrameError::bad_fragment},
      {"fragment_index", [](Bytes& f) { set_field<std::uint32_t>(f, 36, 1); },
       FrameError::bad_fragment},
      {"fragment_count", [](Bytes& f) { set_field<std::uint32_t>(f, 40, 2); },
       FrameError::bad_fragment},
  };
  for (const Case& c : cases) {
    Bytes bad = good;
    c.mutate(bad);
    EXPECT_EQ(check(bad), c.expected) << c.name << ": got " << to_string(check(bad));
  }
}

TEST(Frame, SenderContextIsChecked) {
  const Bytes good = encode(sample_header(), 40);
  FrameHeader h;
  ByteView body;
  ASSERT_EQ(check_frame(good, h, body), FrameError::none);
  EXPECT_EQ(check_sender(h, 0x1122334455667788, Endpoint::client(3, 0)), FrameError::none);
  EXPECT_EQ(check_sender(h, 0x1122334455667789, Endpoint::client(3, 0)), FrameError::bad_cluster);
  EXPECT_EQ(check_sender(h, 0x1122334455667788, Endpoint::client(4, 0)), FrameError::bad_sender);
  EXPECT_EQ(check_sender(h, 0x1122334455667788, Endpoint::replica(3)), FrameError::bad_sender);
  FrameHeader zero_generation = h;
  zero_generation.slot_generation = 0;
  EXPECT_EQ(check_sender(zero_generation, 0x1122334455667788, Endpoint::client(3, 0)),
            FrameError::bad_generation);
}

TEST(Frame, FragmentFieldsFollowFromMessageLength) {
  FrameHeader h = sample_header();
  const std::size_t length = 2 * kMaxFragmentBodyBytes + 10;
  h.message_length = static_cast<std::uint32_t>(length);
  h.fragment_count = 3;
  Bytes body(kMaxFragmentBodyBytes);
  Bytes frame(kMaxFrameBytes);
  for (std::uint32_t index = 0; index < 3; ++index) {
    h.fragment_index = index;
    const std::size_t size = index < 2 ? kMaxFragmentBodyBytes : 10;
    frame.resize(kMaxFrameBytes);
    frame.resize(encode_frame(h, ByteView(body).first(size), frame.data()));
    EXPECT_EQ(check(frame), FrameError::none) << index;
  }
  // A middle fragment that is not full is refused.
  h.fragment_index = 1;
  frame.resize(kMaxFrameBytes);
  frame.resize(encode_frame(h, ByteView(body).first(100), frame.data()));
  EXPECT_EQ(check(frame), FrameError::bad_fragment);
}

}  // namespace
}  // namespace vsr::shm
