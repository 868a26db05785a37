// Which replica may reach which: N x N flags the supervisor flips to emulate partitions.
//
// Senders consult it (send() and flush() drop and count frames on a cut link); nothing
// else does. Relaxed atomics suffice: a partition that takes effect a few frames late
// is still a partition, and every flag is an independent fact.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/assert.h"
#include "shm/limits.h"

namespace vsr::shm {

class LinkMatrix {
 public:
  explicit LinkMatrix(std::uint32_t replica_count);  // every link up

  std::uint32_t replica_count() const { return replica_count_; }
  bool allowed(std::uint32_t from, std::uint32_t to) const {
    return flag(from, to).load(std::memory_order_relaxed) != 0;
  }
  void set(std::uint32_t from, std::uint32_t to, bool up) {
    flag(from, to).store(up ? 1 : 0, std::memory_order_relaxed);
  }
  // Both directions between a and b.
  void set_both(std::uint32_t a, std::uint32_t b, bool up) {
    set(a, b, up);
    set(b, a, up);
  }
  // Cuts (or heals) every link to and from `replica`.
  void isolate(std::uint32_t replica, bool isolated = true);
  void heal_all();

 private:
  const std::atomic<std::uint8_t>& flag(std::uint32_t from, std::uint32_t to) const {
    VSR_ASSERT(from < replica_count_ && to < replica_count_);
    return up_[from][to];
  }
  std::atomic<std::uint8_t>& flag(std::uint32_t from, std::uint32_t to) {
    VSR_ASSERT(from < replica_count_ && to < replica_count_);
    return up_[from][to];
  }

  std::uint32_t replica_count_;
  std::atomic<std::uint8_t> up_[kMaxReplicas][kMaxReplicas];
};

}  // namespace vsr::shm
