#include "tests/sim/replica_host.h"

#include "common/assert.h"
#include "tests/sim/rng.h"

namespace vsr::sim {

namespace {
journal::Identity identity_of(const ReplicaConfig& config) {
  return journal::Identity{config.cluster, config.self,
                           static_cast<std::uint8_t>(config.replica_count)};
}
}  // namespace

ReplicaHost::ReplicaHost(const ReplicaConfig& config, const journal::Geometry& geometry)
    : config_(config),
      geometry_(geometry),
      superblock_(journal::kSuperblockRegionSize, &crash_),
      log_(journal::log_region_size(geometry), &crash_),
      snapshots_(&crash_) {}

void ReplicaHost::format() {
  journal::Journal journal(superblock_, log_, snapshots_, identity_of(config_), geometry_);
  journal.format(/*trustworthy=*/true);
  superblock_.track_durability();  // formatted durably; from here on writes need a sync
  log_.track_durability();
}

Boot::Kind ReplicaHost::start(std::uint64_t nonce) {
  VSR_ASSERT(!up());
  crash_.disarm();
  ++boots_;
  journal_ = std::make_unique<journal::Journal>(superblock_, log_, snapshots_,
                                                identity_of(config_), geometry_);
  store_ = std::make_unique<kv::Store>();
  Boot boot;
  const auto opened = journal_->open();
  last_boot_detail_ = opened.detail;
  switch (opened.status) {
    case journal::Journal::OpenStatus::ok:
      boot.kind = Boot::Kind::restart;
      boot.checkpoint_state = opened.checkpoint_state;
      break;
    case journal::Journal::OpenStatus::unformatted:
    case journal::Journal::OpenStatus::untrustworthy:
      // No state it may vote with: start over empty and recover from the peers.
      superblock_.wipe();
      log_.wipe();
      snapshots_.clear();
      journal_->format(/*trustworthy=*/false);
      sync_all();  // as the real storage makes the recreated files durable
      boot.kind = Boot::Kind::recover;
      boot.nonce = nonce;
      break;
    case journal::Journal::OpenStatus::refused:
      VSR_ASSERT_MSG(false, opened.detail.c_str());
  }
  ReplicaConfig config = config_;
  config.seed = config_.seed + boots_;
  replica_ = std::make_unique<Replica>(config, *journal_, *store_, boot);
  return boot.kind;
}

void ReplicaHost::crash() {
  replica_.reset();
  store_.reset();
  journal_.reset();
  paused = false;
  held.clear();
  missed_hints.clear();
}

void ReplicaHost::power_loss() {
  if (up()) crash();
  superblock_.lose_unsynced();
  log_.lose_unsynced();
}

void ReplicaHost::power_loss_pages(std::uint64_t random) {
  if (up()) crash();
  superblock_.lose_unsynced();
  Rng rng(random);
  log_.lose_unsynced_pages([&](std::uint64_t n) {
    // None, all, or a prefix between, a third each: the extremes are the common cases.
    switch (rng.below(3)) {
      case 0:
        return std::uint64_t{0};
      case 1:
        return n;
      default:
        return rng.between(0, n);
    }
  });
}

void ReplicaHost::arm_crash(std::size_t writes, std::size_t torn_bytes) {
  crash_.arm(writes, torn_bytes);
}

std::string ReplicaHost::crash_and_flip_bit(std::uint64_t random) {
  VSR_ASSERT(up());
  const auto bit = std::byte{static_cast<std::uint8_t>(1u << (random % 8))};
  random /= 8;
  const std::uint64_t kind = random % 8;
  random /= 8;
  // Choose the target while the process still knows where its entries are.
  const journal::LogRing& ring = journal_->log();
  std::optional<journal::EntryView> entry;
  OpNumber op;
  if (ring.head() >= ring.first()) {
    op = OpNumber(ring.first().value() + random % (ring.head().value() - ring.first().value() + 1));
    entry = ring.entry(op);
  }
  const std::byte* base = log_.bytes().data();
  crash();
  const auto flip = [&](std::span<std::byte> bytes, std::size_t at) { bytes[at] ^= bit; };
  const std::string which = " of op " + std::to_string(op.value());
  if (kind >= 2 && entry) {
    const auto body_at = static_cast<std::size_t>(entry->body.data() - base);
    if (kind == 2) {
      flip(log_.mutable_bytes(),
           journal::kLogHeaderSize + (op.value() % geometry_.slot_count) * journal::kSlotSize +
               random % journal::kSlotSize);
      return "slot" + which;
    }
    if (kind == 3) {
      flip(log_.mutable_bytes(), body_at - EntryHeader::kEncodedSize + random % EntryHeader::kEncodedSize);
      return "in-ring header" + which;
    }
    if (!entry->body.empty()) {
      flip(log_.mutable_bytes(), body_at + random % entry->body.size());
      return "body" + which;
    }
  }
  if (kind == 1 && !snapshots_.blobs().empty()) {
    Bytes& blob = snapshots_.blobs().rbegin()->second;
    flip(blob, random % blob.size());
    return "checkpoint";
  }
  const std::size_t copy = random % journal::kSuperblockCopies;
  flip(superblock_.mutable_bytes(), copy * journal::kSuperblockCopySize + (random / 2) % 120);
  return "superblock copy " + std::to_string(copy);
}

void ReplicaHost::wipe() {
  VSR_ASSERT(!up());
  superblock_.wipe();
  log_.wipe();
  snapshots_.clear();
}

}  // namespace vsr::sim
