#include "replica/journal/superblock.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "common/codec.h"

namespace vsr::journal {

namespace {

constexpr std::uint64_t kSeed = 0x7375706572ULL;

Bytes encode(const Superblock& sb) {
  Bytes out;
  Writer w(out);
  w.put(kSuperblockMagic);
  w.put(kLayoutVersion);
  w.put(sb.sequence);
  w.put(sb.identity.cluster);
  w.put(sb.identity.replica);
  w.put(sb.identity.replica_count);
  w.put(static_cast<std::uint8_t>(sb.trustworthy));
  w.put(sb.view.value());
  w.put(sb.last_normal_view.value());
  w.put(sb.commit.value());
  w.put(sb.checkpoint_op.value());
  w.put(sb.checkpoint_checksum);
  w.put(sb.log_offset);
  w.put(sb.ring_bytes);
  w.put(sb.slot_count);
  w.put(checksum(out, kSeed));
  return out;
}

enum class CopyState { valid, blank, corrupt, newer_version };

CopyState decode(ByteView bytes, Superblock& sb) {
  if (std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; })) {
    return CopyState::blank;
  }
  Reader r(bytes);
  if (r.get<std::uint64_t>() != kSuperblockMagic) return CopyState::corrupt;
  const auto version = r.get<std::uint32_t>();
  sb.sequence = r.get<std::uint64_t>();
  sb.identity.cluster = r.get<std::uint64_t>();
  sb.identity.replica = r.get<ReplicaId>();
  sb.identity.replica_count = r.get<std::uint8_t>();
  const auto trustworthy = r.get<std::uint8_t>();
  sb.trustworthy = trustworthy == 1;
  sb.view = ViewNumber(r.get<std::uint64_t>());
  sb.last_normal_view = ViewNumber(r.get<std::uint64_t>());
  sb.commit = OpNumber(r.get<std::uint64_t>());
  sb.checkpoint_op = OpNumber(r.get<std::uint64_t>());
  sb.checkpoint_checksum = r.get<Checksum>();
  sb.log_offset = r.get<std::uint64_t>();
  sb.ring_bytes = r.get<std::uint64_t>();
  sb.slot_count = r.get<std::uint64_t>();
  const std::size_t covered = bytes.size() - r.remaining();
  const auto stored = r.get<Checksum>();
  if (!r.ok() || stored != checksum(bytes.first(covered), kSeed)) return CopyState::corrupt;
  // Only a copy whose checksum holds can be trusted to say its version is newer.
  if (version > kLayoutVersion) return CopyState::newer_version;
  if (version != kLayoutVersion || trustworthy > 1) return CopyState::corrupt;
  return CopyState::valid;
}

}  // namespace

SuperblockRead read_superblock(Region& region, const Identity& expected) {
  const ByteView bytes = region.bytes();
  VSR_ASSERT(bytes.size() >= kSuperblockRegionSize);
  SuperblockRead result;
  int blank = 0;
  bool newer = false;
  for (std::size_t copy = 0; copy < kSuperblockCopies; ++copy) {
    Superblock sb;
    switch (decode(bytes.subspan(copy * kSuperblockCopySize, kSuperblockCopySize), sb)) {
      case CopyState::valid:
        ++result.valid_copies;
        if (!result.superblock || sb.sequence > result.superblock->sequence) result.superblock = sb;
        break;
      case CopyState::blank:
        ++blank;
        break;
      case CopyState::corrupt:
        break;
      case CopyState::newer_version:
        newer = true;
        break;
    }
  }
  if (newer) {
    result.superblock.reset();
    result.error = SuperblockError::newer_version;
  } else if (!result.superblock) {
    result.error = blank == int(kSuperblockCopies) ? SuperblockError::unformatted
                                                   : SuperblockError::corrupt;
  } else if (result.superblock->identity != expected) {
    result.error = SuperblockError::wrong_identity;
  }
  return result;
}

void write_superblock(Region& region, Superblock& sb) {
  sb.sequence += 1;
  const Bytes encoded = encode(sb);
  VSR_ASSERT(encoded.size() <= kSuperblockCopySize);
  Bytes copy_bytes(kSuperblockCopySize);
  std::memcpy(copy_bytes.data(), encoded.data(), encoded.size());
  // Before this write both copies hold the previous state; a write torn in either
  // copy leaves the other one complete.
  const std::size_t first = sb.sequence % kSuperblockCopies;
  for (std::size_t i = 0; i < kSuperblockCopies; ++i) {
    const std::size_t copy = (first + i) % kSuperblockCopies;
    region.write(copy * kSuperblockCopySize, copy_bytes);
  }
}

std::string describe(SuperblockError error) {
  switch (error) {
    case SuperblockError::none:
      return "ok";
    case SuperblockError::unformatted:
      return "the superblock is blank (never formatted)";
    case SuperblockError::corrupt:
      return "no copy of the superblock is valid";
    case SuperblockError::newer_version:
      return "the data was written by a newer layout version of vsr-shm";
    case SuperblockError::wrong_identity:
      return "the data belongs to another cluster or replica";
  }
  return "?";
}

}  // namespace vsr::journal
