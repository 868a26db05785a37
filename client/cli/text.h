// Small text helpers of vsr-client: showing arbitrary bytes safely, and reading a value
// from standard input with a bound.
#pragma once

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace vsr::client::cli {

// 'bytes' in single quotes, with control bytes, quotes, backslashes and non-ASCII bytes
// as \xNN, cut after `max` bytes with "..." so a 16 KiB value does not flood a terminal.
std::string printable(std::string_view bytes, std::size_t max = 200);

// Reads `in` to its end or until more than `max` bytes were read, whichever comes first
// (so a result longer than `max` means "too long"); nullopt on a read error.
std::optional<std::string> read_bounded(std::FILE* in, std::size_t max);

}  // namespace vsr::client::cli
