// Which replica to ask first, from the status boards (advisory, so only a hint: a wrong
// guess costs one redirect or one attempt timeout, never correctness).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include "shm/status_board.h"

namespace vsr::client::detail {

// A board is fresh if it was read whole, a replica has published on it, and its last
// publication (heartbeat) is at most `fresh` old at `now_ns` (CLOCK_MONOTONIC).
bool board_fresh(const shm::ReplicaStatus& board, std::uint64_t now_ns,
                 std::chrono::nanoseconds fresh);

// The replica whose fresh board says primary and normal, with the highest view; a board
// claiming to be the primary of a view it cannot lead (view mod N != its index) is
// ignored. `boards[i]` is replica i's board.
std::optional<std::uint32_t> choose_primary(std::span<const shm::ReplicaStatus> boards,
                                            std::uint64_t now_ns, std::chrono::nanoseconds fresh);

// True if any board is fresh: some replica process of this segment is alive.
bool any_board_fresh(std::span<const shm::ReplicaStatus> boards, std::uint64_t now_ns,
                     std::chrono::nanoseconds fresh);

// CLOCK_MONOTONIC in nanoseconds, the clock the boards are stamped with.
std::uint64_t monotonic_now_ns();

}  // namespace vsr::client::detail
