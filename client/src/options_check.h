// Range checks of the caller's Options and timeouts: a nonsense setting is a programming
// error, reported when the Client or Pipeline is built rather than as odd behaviour later.
#pragma once

#include <chrono>
#include <string>

#include "vsr/client.h"

namespace vsr::client::detail {

inline constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(1);
inline constexpr std::chrono::milliseconds kMaxPause = std::chrono::seconds(10);
inline constexpr std::size_t kMaxQueue = std::size_t{1} << 20;

// What is wrong with `options`, or empty.
std::string check_options(const Options& options);
// Throws std::invalid_argument with check_options' message.
void require_valid(const Options& options);
// What is wrong with a per-operation timeout, or empty.
std::string check_timeout(std::chrono::milliseconds timeout);

}  // namespace vsr::client::detail
