// The superblock: the replica's small durable state, in two copies written
// alternately. Each copy carries a sequence number and a checksum; opening picks the
// newest valid copy, so a write torn by a crash leaves the previous copy in force.
//
// Layout (little-endian), one copy per 4 KiB: see Superblock::encode.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/checksum.h"
#include "replica/core/types.h"
#include "replica/journal/region.h"

namespace vsr::journal {

inline constexpr std::uint64_t kSuperblockMagic = 0x6b6c62727073762eULL;  // ".vsrpblk"
inline constexpr std::uint32_t kLayoutVersion = 1;
inline constexpr std::size_t kSuperblockCopySize = 4096;
inline constexpr std::size_t kSuperblockCopies = 2;
inline constexpr std::size_t kSuperblockRegionSize = kSuperblockCopySize * kSuperblockCopies;

struct Identity {
  std::uint64_t cluster = 0;
  ReplicaId replica = 0;
  std::uint8_t replica_count = 0;
  bool operator==(const Identity&) const = default;
};

struct Superblock {
  std::uint64_t sequence = 0;
  Identity identity;
  // False from format until the replica holds state it may vote with: a fresh
  // cluster formats with true; a wiped replica's new files say false until the
  // recovery protocol finishes.
  bool trustworthy = false;
  ViewNumber view;
  ViewNumber last_normal_view;
  OpNumber commit;
  OpNumber checkpoint_op;
  Checksum checkpoint_checksum = 0;  // of the entry at checkpoint_op (the chain's anchor)
  std::uint64_t log_offset = 0;      // ring offset where entry checkpoint_op + 1 starts
  // Geometry, so a file made with other sizes is refused rather than misread.
  std::uint64_t ring_bytes = 0;
  std::uint64_t slot_count = 0;
};

enum class SuperblockError { none, unformatted, corrupt, newer_version, wrong_identity };

struct SuperblockRead {
  std::optional<Superblock> superblock;
  SuperblockError error = SuperblockError::none;
  int valid_copies = 0;
};

// Reads both copies and returns the newest valid one.
SuperblockRead read_superblock(Region& region, const Identity& expected);
// Writes `sb` with the next sequence number into both copies, one after the other.
// A write torn by a crash leaves the other copy intact (the previous or the new
// state, both consistent), and a later bit flip in one copy leaves the other copy
// holding the same, newest state: no silent rollback of the view.
void write_superblock(Region& region, Superblock& sb);

std::string describe(SuperblockError error);

}  // namespace vsr::journal
