// One simulated replica process: its storage (which outlives the process), and the
// process itself (the core and its state machine), which can be crashed, killed in
// the middle of a step, paused, wiped and restarted.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "replica/core/kv_store.h"
#include "replica/core/replica.h"
#include "replica/journal/journal.h"
#include "tests/sim/network.h"

namespace vsr::sim {

class ReplicaHost {
 public:
  ReplicaHost(const ReplicaConfig& config, const journal::Geometry& geometry);

  // Formats fresh storage (a new cluster).
  void format();
  // Starts the process over whatever the storage holds. Returns how it booted.
  Boot::Kind start(std::uint64_t nonce);
  void crash();
  // The process dies and the host loses power: every write not yet synced is gone
  // (journal::MemoryRegion::lose_unsynced; snapshots are synced when written).
  void power_loss();
  // The same, except that each dirty page of the log may have been written back (any
  // prefix of its writes, `random` choosing): a slot can survive without its body. The
  // superblock keeps its whole-write model: the real one reaches the file only at sync.
  void power_loss_pages(std::uint64_t random);
  // Makes everything written so far durable (the driver's synchronous sync).
  void sync_all() {
    log_.sync();
    superblock_.sync();
  }
  // The next step kills the process at its `writes`-th storage write from now.
  void arm_crash(std::size_t writes, std::size_t torn_bytes);
  bool crashed_mid_step() const { return crash_.crashed; }
  void wipe();
  // Stops the replica and flips one bit of its storage: in a superblock copy, a
  // checkpoint, or one held entry's slot, in-ring header or body. Returns where.
  std::string crash_and_flip_bit(std::uint64_t random);

  bool up() const { return replica_ != nullptr; }
  Replica& replica() { return *replica_; }
  const Replica& replica() const { return *replica_; }
  const kv::Store& store() const { return *store_; }
  journal::MemoryRegion& log_region() { return log_; }
  journal::MemoryRegion& superblock_region() { return superblock_; }
  std::uint64_t boots() const { return boots_; }
  const std::string& last_boot_detail() const { return last_boot_detail_; }

  bool paused = false;
  std::vector<Packet> held;  // packets that arrived while paused
  std::set<ReplicaId> missed_hints;  // replicas hinted down while paused

 private:
  ReplicaConfig config_;
  journal::Geometry geometry_;
  journal::CrashPoint crash_;
  journal::MemoryRegion superblock_;
  journal::MemoryRegion log_;
  journal::MemorySnapshotStore snapshots_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<kv::Store> store_;
  std::unique_ptr<Replica> replica_;
  std::uint64_t boots_ = 0;
  std::string last_boot_detail_;
};

}  // namespace vsr::sim
