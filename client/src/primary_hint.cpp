#include "client/src/primary_hint.h"

#include <time.h>

#include "replica/core/types.h"
#include "replica/process/event_loop.h"

namespace vsr::client::detail {

bool board_fresh(const shm::ReplicaStatus& board, std::uint64_t now_ns,
                 std::chrono::nanoseconds fresh) {
  if (!board.consistent || board.pid == 0 || board.updated_ns == 0) return false;
  // A stamp from the future (another clock, or a reader racing the writer) counts as now.
  const std::uint64_t age_ns = now_ns > board.updated_ns ? now_ns - board.updated_ns : 0;
  return age_ns <= static_cast<std::uint64_t>(fresh.count());
}

std::optional<std::uint32_t> choose_primary(std::span<const shm::ReplicaStatus> boards,
                                            std::uint64_t now_ns, std::chrono::nanoseconds fresh) {
  std::optional<std::uint32_t> best;
  std::uint64_t best_view = 0;
  const auto count = static_cast<std::uint32_t>(boards.size());
  for (std::uint32_t r = 0; r < count; ++r) {
    const shm::ReplicaStatus& b = boards[r];
    if (!board_fresh(b, now_ns, fresh)) continue;
    if (b.role != static_cast<std::uint32_t>(process::Role::primary)) continue;
    if (b.status != static_cast<std::uint32_t>(vsr::Status::normal)) continue;
    if (b.view % count != r) continue;
    if (!best || b.view > best_view) {
      best = r;
      best_view = b.view;
    }
  }
  return best;
}

bool any_board_fresh(std::span<const shm::ReplicaStatus> boards, std::uint64_t now_ns,
                     std::chrono::nanoseconds fresh) {
  for (const shm::ReplicaStatus& b : boards) {
    if (board_fresh(b, now_ns, fresh)) return true;
  }
  return false;
}

std::uint64_t monotonic_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace vsr::client::detail
