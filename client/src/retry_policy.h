// Where and when to resend a request: pure functions, so the policy is tested alone.
//
// A resend always carries the same session and request number as the first send, so
// whichever copy the cluster executes, it executes once (the replicas deduplicate).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "replica/core/types.h"
#include "vsr/client.h"

namespace vsr::client::detail {

// VRR: the primary of view v is replica v mod N.
std::uint32_t primary_of(ViewNumber view, std::uint32_t replica_count);

// After an attempt at `timed_out` went unanswered: the status boards' primary if they
// name a fresh one other than the silent replica, else the next replica in id order
// (so a retry reaches every replica within N attempts).
std::uint32_t next_target(std::uint32_t timed_out, std::optional<std::uint32_t> board_primary,
                          std::uint32_t replica_count);

// The pause before resending after the `pauses_before`-th consecutive busy reply (or
// redirect back to the refusing replica), counting from 0: busy_pause doubled each
// time, at most busy_pause_max.
std::chrono::milliseconds pause_after(std::uint32_t pauses_before, const Options& options);

}  // namespace vsr::client::detail
