#include "client/cli/text.h"

namespace vsr::client::cli {

std::string printable(std::string_view bytes, std::size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  const std::size_t shown = bytes.size() > max ? max : bytes.size();
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out += '\'';
  if (shown < bytes.size()) out += "... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::optional<std::string> read_bounded(std::FILE* in, std::size_t max) {
  std::string out;
  char buffer[4096];
  // Reading one byte past the bound is how a value that is too long is told apart.
  while (out.size() <= max) {
    const std::size_t n = std::fread(buffer, 1, sizeof(buffer), in);
    out.append(buffer, n);
    if (n < sizeof(buffer)) break;
  }
  if (std::ferror(in)) return std::nullopt;
  return out;
}

}  // namespace vsr::client::cli
