#include "shm/frame.h"

#include <cstring>

#include "common/assert.h"
#include "common/checksum.h"

namespace vsr::shm {

namespace {
constexpr std::size_t kChecksumBytes = sizeof(std::uint64_t);
}

Endpoint FrameHeader::sender() const {
  return Endpoint{static_cast<Endpoint::Type>(sender_type), sender_index, slot_generation};
}

const char* to_string(FrameError error) {
  switch (error) {
    case FrameError::none:
      return "none";
    case FrameError::truncated:
      return "truncated";
    case FrameError::bad_magic:
      return "bad_magic";
    case FrameError::bad_length:
      return "bad_length";
    case FrameError::bad_checksum:
      return "bad_checksum";
    case FrameError::bad_reserved:
      return "bad_reserved";
    case FrameError::bad_fragment:
      return "bad_fragment";
    case FrameError::bad_cluster:
      return "bad_cluster";
    case FrameError::bad_sender:
      return "bad_sender";
    case FrameError::bad_generation:
      return "bad_generation";
  }
  return "unknown";
}

std::uint64_t frame_checksum(ByteView frame) {
  VSR_ASSERT(frame.size() >= kFrameHeaderBytes);
  return checksum(frame.data() + kChecksumBytes, frame.size() - kChecksumBytes);
}

std::size_t encode_frame(const FrameHeader& header, ByteView body, std::byte* out) {
  VSR_ASSERT(body.size() <= kMaxFragmentBodyBytes);
  VSR_ASSERT(header.fragment_index < header.fragment_count);
  VSR_ASSERT(header.sender_type == static_cast<std::uint8_t>(Endpoint::Type::replica) ||
             header.sender_type == static_cast<std::uint8_t>(Endpoint::Type::client));
  FrameHeader h = header;
  h.magic = kFrameMagic;
  h.length = static_cast<std::uint32_t>(kFrameHeaderBytes + body.size());
  h.checksum = 0;
  std::memcpy(out, &h, kFrameHeaderBytes);
  if (!body.empty()) std::memcpy(out + kFrameHeaderBytes, body.data(), body.size());
  h.checksum = frame_checksum(ByteView(out, h.length));
  std::memcpy(out, &h.checksum, kChecksumBytes);
  return h.length;
}

namespace {

FrameError check_fragment(const FrameHeader& h) {
  const std::size_t body = h.body_length();
  if (h.message_length > kMaxMessageBytes) return FrameError::bad_fragment;
  // Senders split deterministically (full fragments, then the rest), so every fragment
  // field follows from message_length: anything else is corruption or a foreign writer.
  if (h.fragment_count != fragment_count(h.message_length)) return FrameError::bad_fragment;
  if (h.fragment_index >= h.fragment_count) return FrameError::bad_fragment;
  const std::size_t before = std::size_t{h.fragment_index} * kMaxFragmentBodyBytes;
  const std::size_t expected =
      h.fragment_index + 1 < h.fragment_count ? kMaxFragmentBodyBytes : h.message_length - before;
  if (body != expected) return FrameError::bad_fragment;
  return FrameError::none;
}

}  // namespace

FrameError check_frame(ByteView bytes, FrameHeader& header, ByteView& body) {
  if (bytes.size() < kFrameHeaderBytes) return FrameError::truncated;
  std::memcpy(&header, bytes.data(), kFrameHeaderBytes);
  if (header.magic != kFrameMagic) return FrameError::bad_magic;
  if (header.length < kFrameHeaderBytes || header.length > kMaxFrameBytes) {
    return FrameError::bad_length;
  }
  if (header.length > bytes.size()) return FrameError::truncated;
  if (frame_checksum(bytes.first(header.length)) != header.checksum) {
    return FrameError::bad_checksum;
  }
  if (header.reserved0 != 0 || header.reserved1 != 0) return FrameError::bad_reserved;
  if (const FrameError e = check_fragment(header); e != FrameError::none) return e;
  body = bytes.subspan(kFrameHeaderBytes, header.body_length());
  return FrameError::none;
}

FrameError check_sender(const FrameHeader& header, std::uint64_t cluster_id,
                        Endpoint expected_sender) {
  if (header.cluster_id != cluster_id) return FrameError::bad_cluster;
  if (header.sender_type != static_cast<std::uint8_t>(expected_sender.type) ||
      header.sender_index != expected_sender.index) {
    return FrameError::bad_sender;
  }
  if (expected_sender.is_client() && header.slot_generation == 0) {
    return FrameError::bad_generation;  // claimed slots never have generation 0
  }
  return FrameError::none;
}

}  // namespace vsr::shm
