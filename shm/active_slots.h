// Which client slots are claimed, as one cache line of bits that replicas read.
//
// A replica port polls the rings of claimed slots only. Checking every slot's ring costs
// a load of its indices per slot (two cache lines each), on every poll of the yield
// window; with 32 slots that was ~3 us per replicated write at one session (README
// "Performance"). A claimer sets its bit before its first push and clears it before it
// gives the slot up; a client killed holding a slot leaves the bit set, which costs only
// the polling until a new owner takes the slot over.
//
// No lost messages (the doorbell's Dekker argument, docs/shm.md): the bit is set by a
// seq_cst read-modify-write before the claimer's first push, and the consumer reads the
// bits after its own fence when it declares sleep; so either the consumer sees the bit
// (and then the pushed bytes) or the producer sees it asleep and rings.
#pragma once

#include <atomic>
#include <cstdint>

#include "shm/limits.h"

namespace vsr::shm {

struct alignas(64) ActiveSlots {
  static constexpr std::uint32_t kWords = (kMaxClientSlots + 63) / 64;
  std::atomic<std::uint64_t> words[kWords] = {};

  void mark(std::uint32_t slot) {
    words[slot / 64].fetch_or(bit(slot), std::memory_order_seq_cst);
  }
  void clear(std::uint32_t slot) {
    words[slot / 64].fetch_and(~bit(slot), std::memory_order_seq_cst);
  }
  // A copy of the bits, read once per poll.
  struct Snapshot {
    std::uint64_t words[kWords] = {};  // default: no slot claimed
    bool test(std::uint32_t slot) const { return (words[slot / 64] & bit(slot)) != 0; }
  };
  Snapshot read() const {
    Snapshot s;
    for (std::uint32_t i = 0; i < kWords; ++i)
      s.words[i] = words[i].load(std::memory_order_acquire);
    return s;
  }

 private:
  static constexpr std::uint64_t bit(std::uint32_t slot) { return std::uint64_t{1} << (slot % 64); }
};
static_assert(sizeof(ActiveSlots) == 64);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

}  // namespace vsr::shm
