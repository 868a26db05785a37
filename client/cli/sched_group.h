// Whether this process and a cluster's replicas share a Linux scheduling group.
//
// With autogroup on (kernel.sched_autogroup_enabled), each session is scheduled as one
// group and sched_yield() hands the CPU only to processes of the yielding one's own
// group. The transport's waiting polls with sched_yield, so when busy processes
// outnumber the cores, a client in another session than the replicas waits longer for
// them (measured in the README's "Performance" section). The bench reports it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vsr::client::cli {

enum class SchedGroup { same, different, autogroup_off, unknown };
const char* to_string(SchedGroup group);

// A file's whole content, or nullopt when it cannot be opened.
using ProcReader = std::function<std::optional<std::string>(const std::string& path)>;
std::optional<std::string> read_proc_file(const std::string& path);

// Compares /proc/self/autogroup with /proc/<pid>/autogroup of every pid given (0s are
// skipped). An empty file is the kernel's default autogroup (the one of init's session,
// where processes that never called setsid stay): a group like any other. unknown if a
// file cannot be opened (no such process, not Linux) or no pid was given.
SchedGroup sched_group_with(const std::vector<unsigned long long>& pids,
                            const ProcReader& read = read_proc_file);

}  // namespace vsr::client::cli
