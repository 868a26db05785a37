#include "tests/sim/replica_host.h"

#include "common/assert.h"

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
}

void ReplicaHost::arm_crash(std::size_t writes, std::size_t torn_bytes) {
  crash_.arm(writes, torn_bytes);
}

void ReplicaHost::wipe() {
  VSR_ASSERT(!up());
  superblock_.wipe();
  log_.wipe();
  snapshots_.clear();
}

}  // namespace vsr::sim
