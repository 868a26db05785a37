#include "chaos/history_file.h"

#include <time.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace vsr::chaos {

std::uint64_t monotonic_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(t.tv_nsec);
}

HistoryWriter::HistoryWriter(const std::filesystem::path& path) {
  file_ = std::fopen(path.c_str(), "a");
  if (file_ == nullptr) throw std::runtime_error("cannot write " + path.string());
}

HistoryWriter::~HistoryWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void HistoryWriter::event(std::uint64_t process, const std::string& rest, std::uint64_t time) {
  // One write per line and a flush per event: a killed client loses at most the
  // event it was writing, never corrupts earlier ones.
  std::fprintf(file_, "%llu %llu %s\n", static_cast<unsigned long long>(time),
               static_cast<unsigned long long>(process), rest.c_str());
  std::fflush(file_);
}

std::string quote(const std::string& value) {
  std::string out = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + "\"";
}

std::string quote(const std::optional<std::string>& value) { return value ? quote(*value) : "nil"; }

void merge_histories(const std::vector<std::filesystem::path>& inputs,
                     const std::filesystem::path& output) {
  struct Line {
    std::uint64_t time;
    std::size_t order;
    std::string text;
  };
  std::vector<Line> lines;
  for (const auto& path : inputs) {
    std::ifstream in(path);
    for (std::string text; std::getline(in, text);) {
      if (text.empty()) continue;
      try {
        lines.push_back({std::stoull(text), lines.size(), text});
      } catch (const std::exception&) {
        // A line torn by a killed writer: its operation stays incomplete (indeterminate).
      }
    }
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) { return a.time < b.time; });
  std::ofstream out(output);
  out << "# vsr-chaos history: one event per line, native format (check/FORMAT.md)\n";
  for (const Line& l : lines) out << l.text << "\n";
}

}  // namespace vsr::chaos
