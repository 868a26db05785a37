// Text helpers the parsers and the native writer share: quoting values, splitting lines and
// reading tokens from one line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "check/history.h"

namespace vsr::check {

// A line longer than this is refused: no real history has one, and a missing newline in a
// huge binary file should fail fast rather than be read as one value.
constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;

// "..." with the escapes \" \\ \n \t and \xHH for every other byte outside printable ASCII.
std::string quote(std::string_view bytes);
// quote(value), or nil when absent.
std::string render(const Value& value);

// Calls `visit(line_number, line)` for each line (numbered from 1, without "\n" or "\r\n")
// until it returns false. Returns false if a line is longer than kMaxLineBytes, setting
// `too_long_line`.
template <typename Visit>
bool for_each_line(std::string_view text, Visit&& visit, std::uint32_t& too_long_line) {
  std::uint32_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (line.size() > kMaxLineBytes) {
      too_long_line = number;
      return false;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!visit(number, line)) return true;
  }
  return true;
}

// Reads tokens from one line. Each read either succeeds or leaves a message in error().
class Cursor {
 public:
  explicit Cursor(std::string_view line) : rest_(line) {}

  void skip_space() { skip_any(" \t"); }
  // Skips every leading character that is one of `chars`.
  void skip_any(std::string_view chars);
  bool at_end() const { return rest_.empty(); }
  char peek() const { return rest_.empty() ? '\0' : rest_.front(); }
  std::string_view rest() const { return rest_; }
  // Consumes `prefix` if the rest starts with it.
  bool consume(std::string_view prefix);

  // A run of characters up to whitespace or one of `stops`.
  std::string_view word(std::string_view stops = {});
  // A decimal unsigned integer that fits 64 bits.
  std::optional<std::uint64_t> unsigned_integer(std::string_view what);
  // A double-quoted string with the escapes quote() writes (plus \r).
  std::optional<std::string> quoted(std::string_view what);
  // A quoted string or nil (absent). Sets error() and returns nullopt on failure.
  std::optional<Value> value(std::string_view what);

  const std::string& error() const { return error_; }
  bool failed() const { return !error_.empty(); }

 private:
  void fail(std::string message);

  std::string_view rest_;
  std::string error_;
};

}  // namespace vsr::check
