// Every size in the protocol has a bound, checked where outside input enters.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vsr::limits {

// One client operation (key + values + framing). Keys and values have their own,
// smaller bounds in the key-value store (kv_store.h).
inline constexpr std::size_t kOperationBytes = 40 * 1024;
// One log entry's body: a batch of requests.
inline constexpr std::size_t kEntryBodyBytes = 1024 * 1024;
// Requests in one batch.
inline constexpr std::size_t kBatchRequests = 1024;
// A whole encoded message (state transfer is the largest). The transport splits
// messages into frames and reassembles them; it enforces the same bound.
inline constexpr std::size_t kMessageBytes = 64 * 1024 * 1024;
// A checkpoint (state machine + client table) must fit in one NewState, with the
// entries after it (at most a quarter of the log ring, plus the pipeline).
inline constexpr std::size_t kCheckpointBytes = 36 * 1024 * 1024;
// One reply's result bytes (a value plus a few bytes of framing).
inline constexpr std::size_t kResultBytes = 16 * 1024 + 64;

}  // namespace vsr::limits
