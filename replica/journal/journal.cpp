#include "replica/journal/journal.h"

#include "common/assert.h"
#include "replica/core/limits.h"

namespace vsr::journal {

namespace {
constexpr std::uint64_t kCheckpointMagic = 0x74706b6370727376ULL;  // "vsrpckpt"
constexpr std::uint64_t kCheckpointSeed = 0x636b7074ULL;
}  // namespace

Bytes encode_checkpoint_blob(OpNumber op, Checksum entry_checksum, ByteView state) {
  Bytes out;
  out.reserve(state.size() + 48);
  Writer w(out);
  w.put(kCheckpointMagic);
  w.put(kLayoutVersion);
  w.put(op.value());
  w.put(entry_checksum);
  w.put(checksum(state, kCheckpointSeed));
  w.put_bytes(state);
  return out;
}

std::optional<Bytes> decode_checkpoint_blob(ByteView blob, OpNumber op, Checksum entry_checksum) {
  Reader r(blob);
  if (r.get<std::uint64_t>() != kCheckpointMagic) return std::nullopt;
  if (r.get<std::uint32_t>() != kLayoutVersion) return std::nullopt;
  if (r.get<std::uint64_t>() != op.value()) return std::nullopt;
  if (r.get<Checksum>() != entry_checksum) return std::nullopt;
  const auto state_checksum = r.get<Checksum>();
  const ByteView state = r.get_bytes(limits::kCheckpointBytes);
  if (!r.done() || checksum(state, kCheckpointSeed) != state_checksum) return std::nullopt;
  return Bytes(state.begin(), state.end());
}

Journal::Journal(Region& superblock_region, Region& log_region, SnapshotStore& snapshots,
                 const Identity& identity, const Geometry& geometry)
    : superblock_region_(superblock_region),
      log_region_(log_region),
      snapshots_(snapshots),
      identity_(identity),
      geometry_(geometry),
      log_(log_region, geometry) {
  VSR_ASSERT(superblock_region_.size() >= kSuperblockRegionSize);
}

void Journal::format(bool trustworthy) {
  superblock_ = Superblock{};
  superblock_.identity = identity_;
  superblock_.trustworthy = trustworthy;
  superblock_.checkpoint_checksum = root_checksum(identity_.cluster);
  superblock_.ring_bytes = geometry_.ring_bytes;
  superblock_.slot_count = geometry_.slot_count;
  log_.format(identity_);
  log_.reset(Anchor{OpNumber(0), superblock_.checkpoint_checksum, 0});
  write_superblock();
}

Journal::OpenResult Journal::open() {
  OpenResult result;
  const SuperblockRead read = read_superblock(superblock_region_, identity_);
  switch (read.error) {
    case SuperblockError::none:
      break;
    case SuperblockError::unformatted:
      result.status = OpenStatus::unformatted;
      result.detail = describe(read.error);
      return result;
    case SuperblockError::corrupt:
      result.status = OpenStatus::untrustworthy;
      result.detail = describe(read.error);
      return result;
    case SuperblockError::newer_version:
    case SuperblockError::wrong_identity:
      result.status = OpenStatus::refused;
      result.detail = describe(read.error);
      return result;
  }
  superblock_ = *read.superblock;
  if (superblock_.ring_bytes != geometry_.ring_bytes ||
      superblock_.slot_count != geometry_.slot_count) {
    result.status = OpenStatus::refused;
    result.detail = "the data was made with another log geometry (ring bytes or slots)";
    return result;
  }
  if (!superblock_.trustworthy) {
    result.status = OpenStatus::untrustworthy;
    result.detail = "the previous run did not finish installing state from a peer";
    return result;
  }
  if (superblock_.checkpoint_op.value() > 0) {
    const auto blob = snapshots_.read(superblock_.checkpoint_op);
    auto state = blob ? decode_checkpoint_blob(*blob, superblock_.checkpoint_op,
                                               superblock_.checkpoint_checksum)
                      : std::nullopt;
    if (!state) {
      result.status = OpenStatus::untrustworthy;
      result.detail = "the checkpoint at op " + std::to_string(superblock_.checkpoint_op.value()) +
                      " is missing or corrupt";
      return result;
    }
    result.checkpoint_state = std::move(*state);
  }
  const auto log = log_.open(identity_, Anchor{superblock_.checkpoint_op,
                                               superblock_.checkpoint_checksum,
                                               superblock_.log_offset});
  switch (log.status) {
    case LogRing::OpenStatus::ok:
      break;
    case LogRing::OpenStatus::wrong_identity:
    case LogRing::OpenStatus::newer_version:
      result.status = OpenStatus::refused;
      result.detail = log.detail;
      return result;
    case LogRing::OpenStatus::hole:
      // With peers, a hole may be an acknowledged entry lost to a storage fault: we
      // recover from them. Alone (f = 0, no storage fault tolerated) it can only be what
      // a power cut left of writes never synced, in whatever order the kernel wrote
      // their pages back: nothing past it was committed, so it is a torn tail.
      if (identity_.replica_count == 1) {
        log_.forget_past_hole();
        result.torn_from = log_.head().next();
        result.detail = log.detail + " (cut there: one replica, so never synced)";
        break;
      }
      [[fallthrough]];
    case LogRing::OpenStatus::bad_header:
      result.status = OpenStatus::untrustworthy;
      result.detail = log.detail;
      return result;
  }
  if (log.status == LogRing::OpenStatus::ok) result.torn_from = log.torn_from;
  if (superblock_.commit > log_.head()) {
    result.status = OpenStatus::untrustworthy;
    result.detail = "the log ends before the persisted commit number";
    return result;
  }
  return result;
}

void Journal::write_superblock() { journal::write_superblock(superblock_region_, superblock_); }

void Journal::mark_untrustworthy() {
  superblock_.trustworthy = false;
  write_superblock();
  // Durable before the log changes: otherwise, in sync mode batch, a power cut can
  // leave the previous, trustworthy superblock over a half-replaced log.
  superblock_region_.sync();
}

void Journal::persist_view(ViewNumber view, ViewNumber last_normal_view, OpNumber commit) {
  VSR_ASSERT(view >= superblock_.view);
  VSR_ASSERT(last_normal_view <= view);
  superblock_.view = view;
  superblock_.last_normal_view = last_normal_view;
  superblock_.commit = std::max(superblock_.commit, std::min(commit, log_.head()));
  write_superblock();
}

bool Journal::can_append(std::size_t body_size) const {
  return log_.can_append(body_size, superblock_.checkpoint_op);
}

void Journal::append(const EntryHeader& header, ByteView body) {
  log_.append(header, body, superblock_.checkpoint_op);
}

void Journal::replace_suffix(OpNumber after, std::span<const Entry> entries, ViewNumber view,
                             ViewNumber last_normal_view, OpNumber commit) {
  VSR_ASSERT(after >= superblock_.checkpoint_op);
  ++rewrites_;
  mark_untrustworthy();
  log_.truncate_after(after);
  for (const Entry& e : entries) log_.append(e.header, e.body, superblock_.checkpoint_op);
  superblock_.trustworthy = true;
  superblock_.view = view;
  superblock_.last_normal_view = last_normal_view;
  superblock_.commit = std::min(commit, log_.head());
  write_superblock();
}

void Journal::install_checkpoint(const CheckpointState& checkpoint, std::span<const Entry> entries,
                                 ViewNumber view, ViewNumber last_normal_view, OpNumber commit) {
  ++rewrites_;
  mark_untrustworthy();
  snapshots_.write(checkpoint.op,
                   encode_checkpoint_blob(checkpoint.op, checkpoint.checksum, checkpoint.state));
  log_.reset(Anchor{checkpoint.op, checkpoint.checksum, log_.write_offset()});
  superblock_.checkpoint_op = checkpoint.op;
  superblock_.checkpoint_checksum = checkpoint.checksum;
  superblock_.log_offset = log_.anchor().offset;
  for (const Entry& e : entries) log_.append(e.header, e.body, checkpoint.op);
  superblock_.trustworthy = true;
  superblock_.view = view;
  superblock_.last_normal_view = last_normal_view;
  superblock_.commit = std::min(commit, log_.head());
  write_superblock();
  snapshots_.remove_older_than(checkpoint.op);
}

void Journal::checkpoint(OpNumber op, ByteView state, OpNumber commit) {
  VSR_ASSERT(op > superblock_.checkpoint_op && op <= commit && op <= log_.head());
  const auto entry_checksum = log_.checksum_at(op);
  VSR_ASSERT(entry_checksum.has_value());
  snapshots_.write(op, encode_checkpoint_blob(op, *entry_checksum, state));
  const Anchor anchor = log_.anchor_at(op, *entry_checksum);
  superblock_.checkpoint_op = op;
  superblock_.checkpoint_checksum = *entry_checksum;
  superblock_.log_offset = anchor.offset;
  superblock_.commit = std::max(superblock_.commit, commit);
  write_superblock();
  // Durable before the ring reuses the space of the entries this checkpoint covers
  // and before the old snapshot goes: otherwise, in sync mode batch, a power cut can
  // leave the previous superblock naming overwritten entries and a removed snapshot.
  sync();
  log_.set_anchor(anchor);
  snapshots_.remove_older_than(op);
}

std::optional<Bytes> Journal::checkpoint_state() const {
  if (superblock_.checkpoint_op.value() == 0) return Bytes{};
  const auto blob = snapshots_.read(superblock_.checkpoint_op);
  if (!blob) return std::nullopt;
  return decode_checkpoint_blob(*blob, superblock_.checkpoint_op, superblock_.checkpoint_checksum);
}

bool Journal::wants_checkpoint() const {
  // A quarter of the ring or of the slots in use: checkpointing then leaves room
  // for the pipeline and for state transfer without ever filling the ring.
  return log_.bytes_after_anchor() > geometry_.ring_bytes / 4 ||
         log_.head().value() - superblock_.checkpoint_op.value() > geometry_.slot_count / 4;
}

void Journal::sync() {
  log_region_.sync();
  superblock_region_.sync();
}

}  // namespace vsr::journal
