#include "client/src/retry_policy.h"

#include <algorithm>

#include "common/assert.h"

namespace vsr::client::detail {

std::uint32_t primary_of(ViewNumber view, std::uint32_t replica_count) {
  VSR_ASSERT(replica_count > 0);
  return static_cast<std::uint32_t>(view.value() % replica_count);
}

std::uint32_t next_target(std::uint32_t timed_out, std::optional<std::uint32_t> board_primary,
                          std::uint32_t replica_count) {
  VSR_ASSERT(replica_count > 0 && timed_out < replica_count);
  if (board_primary && *board_primary < replica_count && *board_primary != timed_out) {
    return *board_primary;
  }
  return (timed_out + 1) % replica_count;
}

std::chrono::milliseconds pause_after(std::uint32_t pauses_before, const Options& options) {
  // Doubling past 2^20 would overflow long before; the cap applies much earlier anyway.
  const std::uint32_t doublings = std::min<std::uint32_t>(pauses_before, 20);
  const auto pause = options.busy_pause * (std::int64_t{1} << doublings);
  return std::min(pause, options.busy_pause_max);
}

}  // namespace vsr::client::detail
