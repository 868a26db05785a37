// Each client process writes its operations to its own file, one event per line in
// the checker's native format (check/FORMAT.md), stamped with CLOCK_MONOTONIC: one
// clock for every process on the host, so the files merge into one real-time order.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vsr::chaos {

std::uint64_t monotonic_ns();

class HistoryWriter {
 public:
  explicit HistoryWriter(const std::filesystem::path& path);
  ~HistoryWriter();
  // `rest` is the line after "<time> <process> " (type, f, key, values), already quoted.
  void event(std::uint64_t process, const std::string& rest, std::uint64_t time = monotonic_ns());

 private:
  std::FILE* file_ = nullptr;
};

// Native-format quoting of a string value.
std::string quote(const std::string& value);
std::string quote(const std::optional<std::string>& value);

// Merges the files' lines by time (stable) into one native history.
void merge_histories(const std::vector<std::filesystem::path>& inputs,
                     const std::filesystem::path& output);

}  // namespace vsr::chaos
