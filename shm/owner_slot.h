// Ownership words: who holds a client slot or a replica id, without a lock.
//
// One 64-bit word holds (owner pid, generation); pid 0 means free. Claiming is one CAS
// that also bumps the generation, so every owner of a slot has its own generation and
// frames of an earlier owner can be told apart. A second word, the stamp, records the
// owner's start time (low 32 bits) under its generation: a pid that exists but started
// at another time is a reused pid, and its slot is reclaimable. The stamp is written
// right after the CAS; until it matches the generation the owner counts as alive (it is
// a few instructions into its claim), unless its pid is gone.
#pragma once

#include <atomic>
#include <cstdint>

#include "shm/process.h"

namespace vsr::shm {

struct OwnerSlot {
  std::atomic<std::uint64_t> word{0};   // owner pid << 32 | generation
  std::atomic<std::uint64_t> stamp{0};  // generation << 32 | low 32 bits of start time
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

struct OwnerInfo {
  std::uint32_t pid = 0;  // 0: free
  std::uint32_t generation = 0;
  bool claimed() const { return pid != 0; }
};

OwnerInfo read_owner(const OwnerSlot& slot);

// True if the slot's owner runs and is the process that claimed it (not a reused pid).
bool owner_alive(const OwnerSlot& slot, const OwnerInfo& owner);

struct ClaimResult {
  bool claimed = false;
  std::uint32_t generation = 0;  // when claimed: ours (never 0)
  std::uint32_t holder_pid = 0;  // when not: the live owner
};

// Claims a free slot, or (if `reclaim_dead`) a slot whose owner is dead.
ClaimResult try_claim(OwnerSlot& slot, const ProcessIdentity& self, bool reclaim_dead);

// Frees the slot if `pid` still owns it under `generation`; keeps the generation so the
// next owner gets a new one.
bool release(OwnerSlot& slot, std::uint32_t pid, std::uint32_t generation);

}  // namespace vsr::shm
