// Format names, format detection, and reading a history file.
#include "check/parse.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "check/raw_event.h"
#include "check/text.h"
#include "common/assert.h"

namespace vsr::check {
namespace {

// Detection gives up after this many lines without a deciding one (all noise or comments).
constexpr std::uint32_t kDetectLines = 1000;

// "<digits> <digits> invoke|ok|fail|info": the start of a native event line.
bool looks_native(std::string_view line) {
  Cursor c(line);
  if (!c.unsigned_integer("time")) return false;
  c.skip_space();
  if (!c.unsigned_integer("process")) return false;
  c.skip_space();
  const std::string_view kind = c.word();
  return kind == "invoke" || kind == "ok" || kind == "fail" || kind == "info";
}

}  // namespace

std::string_view to_string(Format format) {
  switch (format) {
    case Format::jepsen:
      return "jepsen";
    case Format::kv:
      return "kv";
    case Format::native:
      return "native";
  }
  VSR_ASSERT_MSG(false, "unknown Format");
}

std::optional<Format> format_from_name(std::string_view name) {
  if (name == "jepsen") return Format::jepsen;
  if (name == "kv") return Format::kv;
  if (name == "native") return Format::native;
  return std::nullopt;
}

Format detect_format(std::string_view text) {
  Format format = Format::native;
  std::uint32_t ignored = 0;
  for_each_line(
      text,
      [&](std::uint32_t number, std::string_view line) {
        Cursor c(line);
        c.skip_space();
        if (line.find("jepsen.util - ") != std::string_view::npos) {
          format = Format::jepsen;
          return false;
        }
        if (c.peek() == '{') {
          format = Format::kv;
          return false;
        }
        if (looks_native(c.rest())) return false;
        return number < kDetectLines;
      },
      ignored);
  return format;
}

ParseError too_long_line_error(Line line) {
  return ParseError{line, "line longer than " + std::to_string(kMaxLineBytes) + " bytes"};
}

ParseResult parse(std::string_view text, Format format) {
  ParseResult result;
  switch (format) {
    case Format::jepsen:
      result = parse_jepsen(text);
      break;
    case Format::kv:
      result = parse_kv(text);
      break;
    case Format::native:
      result = parse_native(text);
      break;
  }
  result.format = format;
  return result;
}

ParseResult parse_file(const std::filesystem::path& path, std::optional<Format> format) {
  auto fail = [](std::string message) {
    return ParseResult{History{}, ParseError{Line{0}, std::move(message)}};
  };
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return fail("cannot read: " + ec.message());
  if (size > kMaxFileBytes) {
    return fail("file of " + std::to_string(size) + " bytes is larger than the limit of " +
                std::to_string(kMaxFileBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::string("cannot open: ") + std::strerror(errno));
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (in.gcount() != static_cast<std::streamsize>(size)) return fail("cannot read the whole file");
  return parse(text, format.value_or(detect_format(text)));
}

}  // namespace vsr::check
