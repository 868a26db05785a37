// Reading histories from text: the native format (check/FORMAT.md) and the two formats of the
// shared test histories (Jepsen etcd logs and EDN-like kv maps).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "check/history.h"

namespace vsr::check {

enum class Format : std::uint8_t { jepsen, kv, native };
std::string_view to_string(Format format);
std::optional<Format> format_from_name(std::string_view name);

// Files larger than this are refused before they are read.
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;

struct ParseError {
  Line line{0};  // 0: the error concerns the whole file
  std::string message;
};

// Either a history or the first error found (and then an empty history).
struct ParseResult {
  History history;
  std::optional<ParseError> error;
  Format format = Format::native;  // the format the text was read as
};

// Guesses the format from the first lines that decide it: "{" starts a kv map, "jepsen.util"
// marks a Jepsen log line, anything else is taken as native.
Format detect_format(std::string_view text);

ParseResult parse(std::string_view text, Format format);
ParseResult parse_jepsen(std::string_view text);
ParseResult parse_kv(std::string_view text);
ParseResult parse_native(std::string_view text);

// Reads and parses a file; without a format, detects it. Errors name no file: the caller
// knows it.
ParseResult parse_file(const std::filesystem::path& path, std::optional<Format> format);

}  // namespace vsr::check
