#include "client/cli/sched_group.h"

#include <fstream>
#include <iterator>

namespace vsr::client::cli {

namespace {

// "/autogroup-42 nice 0\n" -> "/autogroup-42". The kernel prints nothing for a task in
// the default autogroup (whose task group is the root one): named "/" here, so that two
// such tasks compare equal and differ from any "/autogroup-N".
std::optional<std::string> group_of(const ProcReader& read, const std::string& path) {
  const std::optional<std::string> content = read(path);
  if (!content) return std::nullopt;
  const auto begin = content->find_first_not_of(" \t\n");
  if (begin == std::string::npos) return std::string("/");
  const auto end = content->find_first_of(" \t\n", begin);
  return content->substr(begin, end == std::string::npos ? std::string::npos : end - begin);
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

std::optional<std::string> read_proc_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

SchedGroup sched_group_with(const std::vector<unsigned long long>& pids, const ProcReader& read) {
  const std::optional<std::string> enabled = read("/proc/sys/kernel/sched_autogroup_enabled");
  if (!enabled || enabled->empty()) return SchedGroup::unknown;
  if ((*enabled)[0] == '0') return SchedGroup::autogroup_off;
  const auto mine = group_of(read, "/proc/self/autogroup");
  if (!mine) return SchedGroup::unknown;
  bool compared = false;
  for (const unsigned long long pid : pids) {
    if (pid == 0) continue;
    const auto theirs = group_of(read, "/proc/" + std::to_string(pid) + "/autogroup");
    if (!theirs) return SchedGroup::unknown;
    if (*theirs != *mine) return SchedGroup::different;
    compared = true;
  }
  return compared ? SchedGroup::same : SchedGroup::unknown;
}

}  // namespace vsr::client::cli
