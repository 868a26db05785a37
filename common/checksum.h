// One checksum function for the whole project: XXH3 (64-bit) from libxxhash.
//
// Frames, log entries, superblock copies and snapshots all use it. It detects
// accidental corruption (torn writes, bit flips); it is not a defence against an
// adversary, and nothing here needs one: every process is our own, on one host.
#pragma once

// The streaming state's size must be known to embed it by value.
#ifndef XXH_STATIC_LINKING_ONLY
#define XXH_STATIC_LINKING_ONLY
#endif
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace vsr {

using Checksum = std::uint64_t;

inline Checksum checksum(const void* data, std::size_t size, std::uint64_t seed = 0) {
  return XXH3_64bits_withSeed(data, size, seed);
}

inline Checksum checksum(std::span<const std::byte> bytes, std::uint64_t seed = 0) {
  return checksum(bytes.data(), bytes.size(), seed);
}

// Streaming form, for checksums over a header and a body that are not contiguous.
class ChecksumStream {
 public:
  explicit ChecksumStream(std::uint64_t seed = 0) { XXH3_64bits_reset_withSeed(&state_, seed); }
  void update(const void* data, std::size_t size) { XXH3_64bits_update(&state_, data, size); }
  void update(std::span<const std::byte> bytes) { update(bytes.data(), bytes.size()); }
  Checksum digest() const { return XXH3_64bits_digest(&state_); }

 private:
  XXH3_state_t state_{};
};

}  // namespace vsr
