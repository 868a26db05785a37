// The log file: checksummed entries in a ring, with a redundant header per op.
//
// Layout:
//   [0, 4096)             file header: magic, version, identity, geometry, checksum
//   [4096, +slots*64)     one slot per op modulo slot_count: the entry's header, its
//                         ring offset and a checksum of the slot
//   [ring_start, +ring)   entries: header copy, body, padding to 8 bytes
//
// An append writes the body and the in-ring header, then the slot. So after a crash
// an op whose slot is missing was never completed (a torn tail: cut off, it can
// never have been acknowledged), while an op whose slot is valid but whose body
// fails its checksum is faulty: it was written whole once and must be repaired
// from a peer by its known checksum before it is used. Either header copy alone
// is enough to find and check an entry, so a flip in one of them is mended locally.
//
// The ring only overwrites entries at or below the latest checkpoint; when an
// append would need more, can_append() says no and the caller checkpoints first.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "replica/core/entry.h"
#include "replica/journal/region.h"
#include "replica/journal/superblock.h"

namespace vsr::journal {

struct Geometry {
  std::uint64_t slot_count = 8192;
  std::uint64_t ring_bytes = 64ULL * 1024 * 1024;
  bool operator==(const Geometry&) const = default;
};

inline constexpr std::size_t kLogHeaderSize = 4096;
inline constexpr std::size_t kSlotSize = 64;
std::size_t ring_start(const Geometry& g);
std::size_t log_region_size(const Geometry& g);

// An entry as held in the ring: its header and a view of its body.
struct EntryView {
  EntryHeader header;
  ByteView body;
};

// Where the log begins: the checkpoint's op and checksum, and the ring offset of
// the entry after it.
struct Anchor {
  OpNumber op;
  Checksum checksum = 0;
  std::uint64_t offset = 0;
};

class LogRing {
 public:
  LogRing(Region& region, Geometry geometry);

  // Writes the file header and blank slots into a zeroed region.
  void format(const Identity& identity);

  enum class OpenStatus { ok, bad_header, wrong_identity, newer_version, hole };
  struct OpenResult {
    OpenStatus status = OpenStatus::ok;
    std::string detail;
    OpNumber torn_from;  // nonzero: entries from here on were cut off as a torn tail
  };
  // Validates the file header and rebuilds head, first and the faulty set by walking
  // the chain from the anchor.
  OpenResult open(const Identity& identity, const Anchor& anchor);

  OpNumber head() const { return head_; }
  Checksum head_checksum() const { return head_checksum_; }
  // Oldest op whose entry is still held (head() + 1 when nothing is held).
  OpNumber first() const { return first_; }
  bool holds(OpNumber op) const { return op >= first_ && op <= head_; }

  // A held entry whose body is sound.
  std::optional<EntryView> entry(OpNumber op) const;
  // The header of a held entry (also of a faulty one: its checksum is known).
  std::optional<EntryHeader> header(OpNumber op) const;
  // The checksum of the entry at op, also for the anchor itself.
  std::optional<Checksum> checksum_at(OpNumber op) const;
  const std::map<OpNumber, EntryHeader>& faulty() const { return faulty_; }

  // True if an entry of body_size can be appended while overwriting only entries at
  // or below `evictable_through` (the latest checkpoint).
  bool can_append(std::size_t body_size, OpNumber evictable_through) const;
  void append(const EntryHeader& header, ByteView body, OpNumber evictable_through);
  // Forgets every entry after op (op >= first() - 1).
  void truncate_after(OpNumber op);
  // After open() reported a hole: clears the slots of the entries past it, for a
  // caller that knows nothing there was acknowledged. head() stays before the hole.
  void forget_past_hole();
  // Puts back the body (and headers) of a faulty entry, checked against its header.
  bool repair(const EntryHeader& header, ByteView body);
  // Drops everything and starts an empty log after the anchor (after installing a
  // checkpoint received from a peer).
  void reset(const Anchor& anchor);

  // The anchor a checkpoint at op would record, and recording it once durable.
  Anchor anchor_at(OpNumber op, Checksum checksum) const;
  void set_anchor(const Anchor& anchor);
  const Anchor& anchor() const { return anchor_; }
  std::uint64_t write_offset() const { return write_offset_; }
  // Ring bytes between the anchor and the write position (what a checkpoint frees).
  std::uint64_t bytes_after_anchor() const;
  const Geometry& geometry() const { return geometry_; }

 private:
  struct Slot {
    EntryHeader header;
    std::uint64_t offset = 0;
  };
  std::size_t index(OpNumber op) const { return op.value() % geometry_.slot_count; }
  // Reads and checks a slot in the file (when opening: afterwards held_ says the same).
  std::optional<Slot> read_slot(OpNumber op) const;
  // The slot of a held op, from held_.
  const Slot& held_slot(OpNumber op) const;
  void write_slot(const EntryHeader& header, std::uint64_t offset);
  void clear_slot(OpNumber op);
  // Ops after head()+1 whose slot in the file is valid: a log that went on past a lost
  // entry (what open() calls a hole, and forget_past_hole() clears).
  std::vector<OpNumber> valid_slots_past_hole() const;
  void kill_ring_header(std::uint64_t offset);
  std::optional<EntryHeader> read_ring_header(std::uint64_t offset) const;
  ByteView ring_body(std::uint64_t offset, std::uint32_t size) const;
  static std::uint64_t entry_size(std::uint32_t body_size);
  // Where the next entry of `size` bytes goes, and the op through which older
  // entries must be dropped to make room; nullopt if that would pass `limit`.
  struct Placement {
    std::uint64_t offset = 0;
    OpNumber evict_through;
  };
  std::optional<Placement> place(std::uint64_t size, OpNumber limit) const;
  std::uint64_t end_of(OpNumber op) const;

  Region& region_;
  Geometry geometry_;
  // What the file's slots hold for the held ops [first_, head_], indexed like them: the
  // file is written for crashes, this copy is read on every append and execute (a slot
  // read from the file costs two checksums). Entries outside that range are stale.
  std::vector<Slot> held_;
  OpNumber first_{1};
  OpNumber head_{0};
  Checksum head_checksum_ = 0;
  Anchor anchor_;
  std::uint64_t write_offset_ = 0;  // where the entry after head goes if it fits
  std::map<OpNumber, EntryHeader> faulty_;
};

}  // namespace vsr::journal
