#include "check/text.h"

#include <charconv>

namespace vsr::check {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string quote(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() + 2);
  out.push_back('"');
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string render(const Value& value) {
  return value ? quote(*value) : std::string("nil");
}

void Cursor::skip_any(std::string_view chars) {
  std::size_t n = 0;
  while (n < rest_.size() && chars.find(rest_[n]) != std::string_view::npos)
    ++n;
  rest_.remove_prefix(n);
}

bool Cursor::consume(std::string_view prefix) {
  if (!rest_.starts_with(prefix)) return false;
  rest_.remove_prefix(prefix.size());
  return true;
}

std::string_view Cursor::word(std::string_view stops) {
  std::size_t n = 0;
  while (n < rest_.size() && !is_space(rest_[n]) && stops.find(rest_[n]) == std::string_view::npos)
    ++n;
  const std::string_view w = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return w;
}

std::optional<std::uint64_t> Cursor::unsigned_integer(std::string_view what) {
  const std::string_view w = word();
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), value);
  if (w.empty() || ec != std::errc{} || end != w.data() + w.size()) {
    fail("expected " + std::string(what) + " (an unsigned 64-bit integer), found " +
         (w.empty() ? std::string("nothing") : "'" + std::string(w) + "'"));
    return std::nullopt;
  }
  return value;
}

std::optional<std::string> Cursor::quoted(std::string_view what) {
  if (!consume("\"")) {
    fail("expected " + std::string(what) + " (a double-quoted string)");
    return std::nullopt;
  }
  std::string out;
  while (true) {
    if (rest_.empty()) {
      fail("unterminated string in " + std::string(what));
      return std::nullopt;
    }
    const char c = rest_.front();
    rest_.remove_prefix(1);
    if (c == '"') return out;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (rest_.empty()) {
      fail("unterminated string in " + std::string(what));
      return std::nullopt;
    }
    const char e = rest_.front();
    rest_.remove_prefix(1);
    switch (e) {
      case '"':
      case '\\':
        out.push_back(e);
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'x': {
        const int hi = rest_.size() >= 2 ? hex_digit(rest_[0]) : -1;
        const int lo = rest_.size() >= 2 ? hex_digit(rest_[1]) : -1;
        if (hi < 0 || lo < 0) {
          fail("bad \\x escape in " + std::string(what) + " (needs two hex digits)");
          return std::nullopt;
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        rest_.remove_prefix(2);
        break;
      }
      default:
        fail("unknown escape \\" + std::string(1, e) + " in " + std::string(what));
        return std::nullopt;
    }
  }
}

std::optional<Value> Cursor::value(std::string_view what) {
  if (peek() == '"') {
    auto s = quoted(what);
    if (!s) return std::nullopt;
    return Value(std::move(*s));
  }
  const std::string_view w = word();
  if (w == "nil") return Value{};
  fail("expected " + std::string(what) + " (a double-quoted string or nil), found " +
       (w.empty() ? std::string("nothing") : "'" + std::string(w) + "'"));
  return std::nullopt;
}

void Cursor::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

}  // namespace vsr::check
