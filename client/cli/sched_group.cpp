#include "client/cli/sched_group.h"

#include <fstream>
#include <optional>

namespace vsr::client::cli {

namespace {

// The first word of a /proc file ("/autogroup-42 nice 0" -> "/autogroup-42").
std::optional<std::string> first_word(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word)) return std::nullopt;
  return word;
}

}  // namespace

const char* to_string(SchedGroup group) {
  switch (group) {
    case SchedGroup::same:
      return "same";
    case SchedGroup::different:
      return "different";
    case SchedGroup::autogroup_off:
      return "autogroup off";
    case SchedGroup::unknown:
      return "unknown";
  }
  return "unknown";
}

SchedGroup sched_group_with(const std::vector<unsigned long long>& pids) {
  const auto enabled = first_word("/proc/sys/kernel/sched_autogroup_enabled");
  if (!enabled) return SchedGroup::unknown;
  if (*enabled == "0") return SchedGroup::autogroup_off;
  const auto mine = first_word("/proc/self/autogroup");
  if (!mine) return SchedGroup::unknown;
  bool compared = false;
  for (const unsigned long long pid : pids) {
    if (pid == 0) continue;
    const auto theirs = first_word("/proc/" + std::to_string(pid) + "/autogroup");
    if (!theirs) return SchedGroup::unknown;
    if (*theirs != *mine) return SchedGroup::different;
    compared = true;
  }
  return compared ? SchedGroup::same : SchedGroup::unknown;
}

}  // namespace vsr::client::cli
