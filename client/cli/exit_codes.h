// vsr-client's exit codes (also in --help), and which one each result gets.
#pragma once

#include "vsr/client.h"

namespace vsr::client::cli {

inline constexpr int kExitSuccess = 0;
// A definite negative answer: key not found, cas mismatch, refused by the store.
inline constexpr int kExitNegative = 1;
// Bad usage, key or value sizes included: nothing was sent.
inline constexpr int kExitUsage = 2;
// Unavailable (nothing was sent) or indeterminate (timed out, session evicted).
inline constexpr int kExitUnavailable = 3;

int exit_code_for(Status status);

}  // namespace vsr::client::cli
