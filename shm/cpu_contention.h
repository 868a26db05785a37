// Whether any task on this machine may be waiting for a CPU: more runnable tasks than
// the CPUs this process may use.
//
// A waiting process that yields between polls sees a message only when its yield
// returns; one that polls without yielding keeps its core from whoever else wants it.
// Polling is free exactly when nobody else wants a core. How long sched_yield() took
// does not tell: under EEVDF a yield returns at once when the other runnable task is
// not yet eligible, and a 4-process ring on 2 cores got slower when that was trusted.
// So this asks the kernel: the running count in /proc/loadavg (which includes the
// caller), against the online CPUs this process's affinity allows. The count is the
// whole machine's, so a process confined to some CPUs errs towards "contended". A CPU
// quota (cgroup cpu.max) is not seen: a cluster under one may be judged uncontended
// while throttled; set PortOptions::uncontended_poll to 0 there.
//
// A reading costs a syscall (~2.7 us here), so it is reused for `kInterval`. PortCore
// takes it where it was about to give up the CPU anyway (before a yield), and, while
// the last reading said "uncontended", also on entering its window, so that a process
// that never yields cannot keep an old "uncontended": that one may delay a message by a
// reading's cost, once per kInterval. Until the first reading, and whenever
// /proc/loadavg cannot be read or parsed, the answer is "contended": the caller keeps
// yielding, as it would without this.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vsr::shm {

// The running count of a /proc/loadavg line ("0.68 1.39 1.46 2/77 10004" -> 2).
std::optional<std::uint32_t> parse_loadavg_running(std::string_view line);

class CpuContention {
 public:
  static constexpr std::chrono::nanoseconds kInterval = std::chrono::milliseconds(2);

  // Tests pass another file and CPU count; by default /proc/loadavg and usable_cpus().
  explicit CpuContention(std::string path = "/proc/loadavg", std::uint32_t cpus = usable_cpus());
  ~CpuContention();
  CpuContention(const CpuContention&) = delete;
  CpuContention& operator=(const CpuContention&) = delete;

  // The last reading.
  bool contended() const { return contended_; }
  // Reads /proc/loadavg again if the last reading is kInterval old (`now`: the caller's
  // monotonic clock).
  void refresh(std::chrono::nanoseconds now);

  // The online CPUs this process's affinity allows.
  static std::uint32_t usable_cpus();

 private:
  std::string path_;
  std::uint32_t cpus_;
  int fd_ = -1;  // opened at the first reading; -2 once opening failed
  std::chrono::nanoseconds next_reading_{0};
  bool contended_ = true;
};

}  // namespace vsr::shm
