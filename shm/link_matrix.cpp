#include "shm/link_matrix.h"

namespace vsr::shm {

LinkMatrix::LinkMatrix(std::uint32_t replica_count) : replica_count_(replica_count) {
  VSR_ASSERT(replica_count >= 1 && replica_count <= kMaxReplicas);
  for (auto& row : up_) {
    for (auto& f : row)
      f.store(1, std::memory_order_relaxed);
  }
}

void LinkMatrix::isolate(std::uint32_t replica, bool isolated) {
  for (std::uint32_t other = 0; other < replica_count_; ++other) {
    if (other != replica) set_both(replica, other, !isolated);
  }
}

void LinkMatrix::heal_all() {
  for (std::uint32_t from = 0; from < replica_count_; ++from) {
    for (std::uint32_t to = 0; to < replica_count_; ++to)
      set(from, to, true);
  }
}

}  // namespace vsr::shm
