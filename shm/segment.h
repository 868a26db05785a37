// The shared-memory segment: creation, attachment, removal, and typed access to what
// lives inside (status boards, hints, link matrix, doorbells, ownership words, rings).
//
// Created once by the supervisor (Boost.Interprocess shared_memory_object +
// mapped_region, name "/vsr-<cluster>", mode 0600), sized and fully constructed at
// creation; nothing is allocated in it afterwards and nothing in it is a lock.
// Errors: setup throws shm::Error with a message that says what to do (shm/error.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shm/active_slots.h"
#include "shm/doorbell.h"
#include "shm/error.h"
#include "shm/header.h"
#include "shm/link_matrix.h"
#include "shm/owner_slot.h"
#include "shm/ring.h"
#include "shm/status_board.h"

namespace boost::interprocess {
class mapped_region;
}

namespace vsr::shm {

struct SegmentConfig {
  std::string cluster;
  std::uint32_t replica_count = 3;  // 1..kMaxReplicas
  std::uint32_t client_slots = 32;  // 0..kMaxClientSlots
  std::uint64_t cluster_id = 0;     // 0: pick a random non-zero id
  std::uint64_t generation = 0;
};

// What is found under a cluster's name, for a creator deciding whether it may replace it.
struct SegmentProbe {
  enum class State : std::uint8_t {
    absent,  // no segment
    live,    // its supervisor runs: leave it alone
    dead,    // its supervisor is gone (or it is unreadable): safe to remove
  };
  State state = State::absent;
  std::uint32_t supervisor_pid = 0;
  std::string message;  // why, for logs
  // Dead segments only: replica and client processes still attached to it. A new
  // supervisor must stop them before it reuses their data directories: they would go on
  // running on the old segment after it is replaced.
  std::vector<std::uint32_t> attached_pids;
};

struct ClientSlotInfo {
  std::uint32_t slot = 0;
  std::uint32_t pid = 0;  // 0: free
  std::uint32_t generation = 0;
  bool owner_alive = false;
};

class Segment {
 public:
  // Supervisor: creates and initialises the segment. A stale leftover (dead supervisor,
  // half-created, unreadable) is removed first (call probe() before, to stop its
  // attached_pids); a live one makes this throw already_running.
  static Segment create(const SegmentConfig& config);
  // Everyone else: maps and validates; throws not_found / stale / incomplete / corrupt /
  // mismatch with a message that says what to do.
  static Segment attach(const std::string& cluster, const AttachOptions& options = {});
  // Unlinks the segment (mappings stay valid until unmapped). False if there was none.
  static bool remove(const std::string& cluster);
  static SegmentProbe probe(const std::string& cluster);
  // Removes the segment if its supervisor is gone; true if it removed one.
  static bool remove_if_stale(const std::string& cluster);
  static std::string object_name(const std::string& cluster) { return shm::object_name(cluster); }

  Segment(Segment&&) noexcept;
  Segment& operator=(Segment&&) noexcept;
  ~Segment();

  const std::string& cluster() const { return cluster_; }
  const Header& header() const { return *header_; }
  std::uint32_t replica_count() const { return header_->info.replica_count; }
  std::uint32_t client_slots() const { return header_->info.client_slots; }
  std::uint64_t cluster_id() const { return header_->info.cluster_id; }
  std::uint64_t generation() const { return header_->info.generation; }
  std::size_t size_bytes() const { return header_->info.segment_bytes; }

  // Status boards (written by each replica, read by anyone; advisory).
  StatusBoard& status(std::uint32_t replica);
  const StatusBoard& status(std::uint32_t replica) const;
  // Partitions (flipped by the supervisor, read by senders).
  LinkMatrix& links() { return *links_; }
  const LinkMatrix& links() const { return *links_; }

  // Supervisor hints: bump `replica`'s down count and ring every replica's doorbell.
  void signal_replica_down(std::uint32_t replica);
  std::uint64_t replica_down_count(std::uint32_t replica) const;
  // Rings every replica's doorbell (wakes them wherever they wait).
  void ring_all_replicas();

  std::vector<ClientSlotInfo> list_client_slots() const;
  OwnerInfo replica_owner_info(std::uint32_t replica) const;

  // Low level: used by the ports, and by tests and benchmarks that poke at the rings.
  Doorbell& replica_doorbell(std::uint32_t replica);
  Doorbell& client_doorbell(std::uint32_t slot);
  OwnerSlot& replica_owner(std::uint32_t replica);
  OwnerSlot& client_owner(std::uint32_t slot);
  const OwnerSlot& client_owner(std::uint32_t slot) const;
  ActiveSlots& active_slots();
  ReplicaRing& replica_ring(std::uint32_t from, std::uint32_t to);
  ClientRing& client_to_replica_ring(std::uint32_t slot, std::uint32_t replica);
  ClientRing& replica_to_client_ring(std::uint32_t replica, std::uint32_t slot);

 private:
  Segment(std::string cluster, std::unique_ptr<boost::interprocess::mapped_region> region);
  template <typename T>
  T* at(std::uint64_t offset) const;

  std::string cluster_;
  std::unique_ptr<boost::interprocess::mapped_region> region_;
  std::byte* base_ = nullptr;
  Header* header_ = nullptr;
  LinkMatrix* links_ = nullptr;
};

}  // namespace vsr::shm
