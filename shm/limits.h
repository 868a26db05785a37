// Every size and bound of the shared-memory transport, in one place.
//
// The segment layout depends on these, so they are compile-time constants and the
// segment header records the ones that shape it: a process built with other values
// refuses to attach (layout mismatch) instead of misreading the rings.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vsr::shm {

inline constexpr std::uint32_t kMaxReplicas = 7;
inline constexpr std::uint32_t kMaxClientSlots = 256;
inline constexpr std::size_t kClusterNameBytesMax = 64;

// Usable bytes of one ring. Replica-to-replica rings carry prepares and state transfer,
// client rings carry requests and replies, so the former are bigger.
inline constexpr std::size_t kReplicaRingBytes = std::size_t{1} << 20;   // 1 MiB
inline constexpr std::size_t kClientRingBytes = std::size_t{128} << 10;  // 128 KiB

// One frame (header + body). Small enough that several fit in a client ring, so a
// producer rarely waits for a whole ring to drain before it can publish the next frame.
inline constexpr std::size_t kFrameHeaderBytes = 56;
inline constexpr std::size_t kMaxFrameBytes = std::size_t{32} << 10;  // 32 KiB
inline constexpr std::size_t kMaxFragmentBodyBytes = kMaxFrameBytes - kFrameHeaderBytes;

// Largest message body the send API accepts (state transfer is the big one).
inline constexpr std::size_t kMaxMessageBytes = std::size_t{64} << 20;  // 64 MiB
inline constexpr std::size_t kMaxFragments =
    (kMaxMessageBytes + kMaxFragmentBodyBytes - 1) / kMaxFragmentBodyBytes;

// Bytes all frames of a message take, headers included.
constexpr std::size_t fragment_count(std::size_t message_bytes) {
  return message_bytes == 0 ? 1
                            : (message_bytes + kMaxFragmentBodyBytes - 1) / kMaxFragmentBodyBytes;
}
constexpr std::size_t framed_bytes(std::size_t message_bytes) {
  return fragment_count(message_bytes) * kFrameHeaderBytes + message_bytes;
}

// Default bound of one per-destination outbox (process-local memory, grown on demand):
// one largest message always fits into an empty outbox, plus one ring's worth of slack
// for the small messages queued next to it. A destination that never drains costs at
// most this much memory; past it, new messages to it are dropped and counted.
inline constexpr std::size_t kOutboxBytesMax = framed_bytes(kMaxMessageBytes) + kReplicaRingBytes;
// An outbox or reassembly buffer that grew past this gives its memory back once empty.
inline constexpr std::size_t kBufferKeepBytes = std::size_t{1} << 20;

static_assert(kMaxFrameBytes * 4 <= kClientRingBytes, "several frames must fit in a client ring");
static_assert(kMaxFrameBytes <= kReplicaRingBytes);
static_assert(kMaxFragments <= UINT32_MAX);
static_assert(kMaxMessageBytes <= UINT32_MAX, "message_length is a u32 in the frame header");
static_assert(kOutboxBytesMax > framed_bytes(kMaxMessageBytes));

}  // namespace vsr::shm
