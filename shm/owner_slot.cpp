#include "shm/owner_slot.h"

#include "common/assert.h"

namespace vsr::shm {
namespace {

constexpr std::uint64_t pack(std::uint32_t high, std::uint32_t low) {
  return (std::uint64_t{high} << 32) | low;
}
constexpr OwnerInfo unpack(std::uint64_t word) {
  return OwnerInfo{static_cast<std::uint32_t>(word >> 32), static_cast<std::uint32_t>(word)};
}
constexpr int kClaimAttempts = 16;  // CAS races are with other claimers only: bounded

}  // namespace

OwnerInfo read_owner(const OwnerSlot& slot) {
  return unpack(slot.word.load(std::memory_order_acquire));
}

bool owner_alive(const OwnerSlot& slot, const OwnerInfo& owner) {
  VSR_ASSERT(owner.claimed());
  const auto start = process_start_time(owner.pid);
  if (!start) return false;
  const OwnerInfo stamp = unpack(slot.stamp.load(std::memory_order_acquire));
  if (stamp.pid != owner.generation) return true;  // mid-claim: not stamped yet
  return stamp.generation == static_cast<std::uint32_t>(*start);
}

ClaimResult try_claim(OwnerSlot& slot, const ProcessIdentity& self, bool reclaim_dead) {
  VSR_ASSERT(self.pid != 0);
  std::uint64_t word = slot.word.load(std::memory_order_acquire);
  for (int attempt = 0; attempt < kClaimAttempts; ++attempt) {
    const OwnerInfo owner = unpack(word);
    if (owner.claimed() && (!reclaim_dead || owner_alive(slot, owner))) {
      return ClaimResult{false, 0, owner.pid};
    }
    std::uint32_t generation = owner.generation + 1;
    if (generation == 0) generation = 1;  // 0 means "no client" in frames
    if (slot.word.compare_exchange_strong(word, pack(self.pid, generation),
                                          std::memory_order_acq_rel)) {
      slot.stamp.store(pack(generation, static_cast<std::uint32_t>(self.start_time)),
                       std::memory_order_release);
      return ClaimResult{true, generation, 0};
    }
  }
  return ClaimResult{false, 0, unpack(word).pid};
}

bool release(OwnerSlot& slot, std::uint32_t pid, std::uint32_t generation) {
  std::uint64_t expected = pack(pid, generation);
  return slot.word.compare_exchange_strong(expected, pack(0, generation),
                                           std::memory_order_acq_rel);
}

}  // namespace vsr::shm
