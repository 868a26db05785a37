// Who a process is, in a way that survives pid reuse: (pid, start time).
//
// The start time is field 22 of /proc/<pid>/stat (clock ticks since boot). A pid that
// exists but started at another time is a different process that inherited the number.
// Zombies count as dead: a SIGKILLed child is gone for our purposes even before its
// parent reaps it.
#pragma once

#include <cstdint>
#include <optional>

namespace vsr::shm {

struct ProcessIdentity {
  std::uint32_t pid = 0;
  std::uint64_t start_time = 0;
};

// The calling process. Not cached: a fork()ed child is another process.
ProcessIdentity self_identity();

// Start time of a running (not zombie) process, or nullopt if there is none with this pid.
std::optional<std::uint64_t> process_start_time(std::uint32_t pid);

// True if `pid` runs and started at `start_time`.
bool process_alive(const ProcessIdentity& process);

}  // namespace vsr::shm
