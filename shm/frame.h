// The frame: the unit published on a ring. A fixed 56-byte header, then the body.
//
//   offset size field
//        0    8 checksum        XXH3-64 of bytes [8, length): rest of header + body
//        8    4 magic           kFrameMagic
//       12    4 length          header + body bytes, in [kFrameHeaderBytes, kMaxFrameBytes]
//       16    8 cluster_id      the segment's cluster id
//       24    8 message_id      sender-chosen; the same for all fragments of a message
//       32    4 message_length  body bytes of the whole message (<= kMaxMessageBytes)
//       36    4 fragment_index  0-based
//       40    4 fragment_count  fragment_count(message_length)
//       44    4 slot_generation client slot generation: the sender's (client -> replica)
//                               or the receiver's (replica -> client); 0 between replicas
//       48    2 kind            opaque to the transport (the protocol's message tag)
//       50    1 sender_type     Endpoint::Type
//       51    1 reserved        0
//       52    2 sender_index    replica index or client slot
//       54    2 reserved        0
//
// Little-endian, as the host (common/codec.h asserts it). The checksum covers every
// other header field, so nothing in a frame is trusted before it verifies.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/codec.h"
#include "shm/endpoint.h"
#include "shm/limits.h"

namespace vsr::shm {

inline constexpr std::uint32_t kFrameMagic = 0x46525356;  // "VSRF"

struct FrameHeader {
  std::uint64_t checksum = 0;
  std::uint32_t magic = kFrameMagic;
  std::uint32_t length = 0;
  std::uint64_t cluster_id = 0;
  std::uint64_t message_id = 0;
  std::uint32_t message_length = 0;
  std::uint32_t fragment_index = 0;
  std::uint32_t fragment_count = 1;
  std::uint32_t slot_generation = 0;
  std::uint16_t kind = 0;
  std::uint8_t sender_type = 0;
  std::uint8_t reserved0 = 0;
  std::uint16_t sender_index = 0;
  std::uint16_t reserved1 = 0;

  std::size_t body_length() const { return length - kFrameHeaderBytes; }
  Endpoint sender() const;
};
static_assert(sizeof(FrameHeader) == kFrameHeaderBytes);
static_assert(offsetof(FrameHeader, magic) == 8 && offsetof(FrameHeader, length) == 12);
static_assert(offsetof(FrameHeader, kind) == 48 && offsetof(FrameHeader, sender_index) == 52);

// Why a frame was refused. The first group leaves the frame's length untrusted (the
// receiver must resynchronise); the second group is about a frame that verified.
enum class FrameError : std::uint8_t {
  none,
  truncated,  // fewer bytes than a header, or than the header's length
  bad_magic,
  bad_length,  // length outside [kFrameHeaderBytes, kMaxFrameBytes]
  bad_checksum,
  bad_reserved,    // a reserved field is not zero
  bad_fragment,    // fragment fields inconsistent with each other or with the body length
  bad_cluster,     // cluster id of another cluster
  bad_sender,      // sender is not the producer of the ring the frame came from
  bad_generation,  // slot_generation field impossible for this sender/receiver pair
};
const char* to_string(FrameError error);
inline bool length_untrusted(FrameError e) {
  return e == FrameError::truncated || e == FrameError::bad_magic || e == FrameError::bad_length ||
         e == FrameError::bad_checksum;
}

// Writes one frame (header fields from `header` except checksum, magic and length, which
// it fills in) followed by `body` to `out`, which must hold kFrameHeaderBytes + body.size()
// bytes. Returns the frame length.
std::size_t encode_frame(const FrameHeader& header, ByteView body, std::byte* out);

// The checksum field a frame of `frame.size()` bytes must hold (XXH3 of bytes [8, size)).
std::uint64_t frame_checksum(ByteView frame);

// Structural check of the frame at the start of `bytes`, with no receiver context:
// size, magic, length, checksum, reserved fields, fragment fields. On success fills
// `header` and `body` (a view into `bytes`).
FrameError check_frame(ByteView bytes, FrameHeader& header, ByteView& body);

// Receiver context: the frame must come from `expected_sender` (the producer of the ring
// it was read from) of cluster `cluster_id`; a client sender's generation is never 0.
// Whether the generation is current is the receiving port's business (a stale frame is
// not a bad frame).
FrameError check_sender(const FrameHeader& header, std::uint64_t cluster_id,
                        Endpoint expected_sender);

}  // namespace vsr::shm
