// A log entry: one fixed header that every replica holds identically, and a body.
//
// The header's checksum covers every other header field, including the body's
// checksum and the checksum of the previous entry (`parent`). Entries therefore
// form a hash chain: two logs that hold the same checksum at op n hold the same
// history up to n. That is what lets a backup ack only what it holds identically
// (R#1) and lets any replica verify a log suffix it receives.
#pragma once

#include <array>
#include <cstdint>

#include "common/checksum.h"
#include "common/codec.h"
#include "replica/core/types.h"

namespace vsr {

struct EntryHeader {
  Checksum checksum = 0;       // of the fields below
  Checksum parent = 0;         // checksum of the entry at op - 1
  Checksum body_checksum = 0;  // of the body bytes
  std::uint64_t cluster = 0;   // cluster id: entries of another cluster never chain
  ViewNumber view;             // view in which the primary created the entry
  OpNumber op;
  std::uint32_t body_size = 0;
  std::uint32_t reserved = 0;

  static constexpr std::size_t kEncodedSize = 56;

  // Fills body_checksum and checksum for the given body.
  void seal(ByteView body);
  Checksum compute_checksum() const;
  bool header_valid() const { return checksum == compute_checksum(); }
  bool body_valid(ByteView body) const;
  bool operator==(const EntryHeader&) const = default;

  // The fixed little-endian layout, built in place: headers are encoded several times
  // per op (log slot, in-ring copy, Prepare), so not field by field into a vector.
  using Encoded = std::array<std::byte, kEncodedSize>;
  Encoded encoded() const;
  void encode(Writer& out) const { out.put_raw(encoded()); }
  static EntryHeader decode(Reader& in);
};

// The checksum that the first entry (op 1) names as its parent: a per-cluster
// constant, so that logs of different clusters never chain.
Checksum root_checksum(std::uint64_t cluster);

// An entry that owns its body (messages carry these).
struct Entry {
  EntryHeader header;
  Bytes body;
  bool operator==(const Entry&) const = default;
};

}  // namespace vsr
