// The replica's durable state: superblock, log ring and checkpoints, over regions
// (files in the service, memory in the simulator; the same code either way).
//
// The core writes through this class during a step; the driver calls sync() once
// per batch (sync mode `batch`) before it sends any message the step produced, so
// every entry and every view number is durable before anything depends on it.
//
// Replacing the log's suffix (a StartView, a NewState, an installed checkpoint)
// is made atomic with the trustworthy flag: the superblock first says "not
// trustworthy", then the log changes, then the superblock says "trustworthy" with
// the new view and last_normal_view. A crash in between leaves a replica that
// knows its log may be neither the old one nor the new one, and it recovers from
// its peers (VRR 4.3) instead of voting with it.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "replica/core/message.h"
#include "replica/journal/log_ring.h"
#include "replica/journal/region.h"
#include "replica/journal/superblock.h"

namespace vsr::journal {

class Journal {
 public:
  Journal(Region& superblock_region, Region& log_region, SnapshotStore& snapshots,
          const Identity& identity, const Geometry& geometry);

  // Writes a blank superblock (view 0) and log header. `trustworthy`: true when a
  // new cluster is formatted, false for a replica whose state was wiped.
  void format(bool trustworthy);

  enum class OpenStatus {
    ok,
    unformatted,    // no superblock at all: a wiped data directory
    untrustworthy,  // the state cannot be voted with: recover from peers
    refused,        // another cluster, replica, geometry or a newer layout: touch nothing
  };
  struct OpenResult {
    OpenStatus status = OpenStatus::ok;
    std::string detail;
    Bytes checkpoint_state;  // the state machine + client table at checkpoint_op
    OpNumber torn_from;
  };
  OpenResult open();

  const Superblock& superblock() const { return superblock_; }
  ViewNumber view() const { return superblock_.view; }
  ViewNumber last_normal_view() const { return superblock_.last_normal_view; }
  OpNumber checkpoint_op() const { return superblock_.checkpoint_op; }
  const LogRing& log() const { return log_; }
  const Identity& identity() const { return identity_; }

  // Persists view and last_normal_view (and the commit number, as a hint).
  void persist_view(ViewNumber view, ViewNumber last_normal_view, OpNumber commit);

  bool can_append(std::size_t body_size) const;
  void append(const EntryHeader& header, ByteView body);
  bool repair(const EntryHeader& header, ByteView body) {
    const bool repaired = log_.repair(header, body);  // false: nothing was written
    if (repaired) ++rewrites_;
    return repaired;
  }

  // How many times entries already written were replaced or rewritten (replace_suffix,
  // install_checkpoint, repair): a sync that began before a change vouches only for
  // what was written then, so whoever reports durability compares this count.
  std::uint64_t rewrites() const { return rewrites_; }

  // Atomically: drop every entry after `after`, append `entries` (which must chain
  // onto the entry at `after`), and persist the view state.
  void replace_suffix(OpNumber after, std::span<const Entry> entries, ViewNumber view,
                      ViewNumber last_normal_view, OpNumber commit);
  // Atomically: adopt a peer's checkpoint and the entries after it.
  void install_checkpoint(const CheckpointState& checkpoint, std::span<const Entry> entries,
                          ViewNumber view, ViewNumber last_normal_view, OpNumber commit);
  // Saves a local checkpoint at op (<= commit), then lets the ring reuse the space
  // of the entries it covers. Marks the state trustworthy (a recovered replica's
  // first checkpoint). Returns false if it could not (op's checksum unknown).
  void checkpoint(OpNumber op, ByteView state, OpNumber commit);
  // The latest checkpoint's state, for a peer that needs it.
  std::optional<Bytes> checkpoint_state() const;

  // Whether the ring is filling up: the core checkpoints early when it is.
  bool wants_checkpoint() const;
  void sync();

 private:
  void write_superblock();
  void mark_untrustworthy();

  Region& superblock_region_;
  Region& log_region_;
  SnapshotStore& snapshots_;
  Identity identity_;
  Geometry geometry_;
  std::uint64_t rewrites_ = 0;
  Superblock superblock_;
  LogRing log_;
};

// Checkpoint blobs: a header (magic, op, entry checksum, size, checksum) + state.
Bytes encode_checkpoint_blob(OpNumber op, Checksum entry_checksum, ByteView state);
std::optional<Bytes> decode_checkpoint_blob(ByteView blob, OpNumber op, Checksum entry_checksum);

}  // namespace vsr::journal
