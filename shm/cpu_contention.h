// Whether any task on this machine is waiting for a CPU: more runnable tasks than
// online CPUs.
//
// A waiting process that yields between polls sees a message only when its yield
// returns; one that polls without yielding keeps its core from whoever else wants it.
// Polling is free exactly when nobody else wants a core. How long sched_yield() took
// does not tell: under EEVDF a yield returns at once when the other runnable task is
// not yet eligible, and a 4-process ring on 2 cores got slower when that was trusted.
// So this asks the kernel: the running count in /proc/loadavg (which includes the
// caller).
//
// A reading costs a syscall (~2.7 us here), so it is reused for `kInterval`, and taken
// only where the caller was about to give up the CPU anyway (before a yield): never
// between a message landing and its being seen. Until the first reading, and whenever
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

  // Tests pass another file and CPU count; by default /proc/loadavg and the online CPUs.
  explicit CpuContention(std::string path = "/proc/loadavg", std::uint32_t cpus = online_cpus());
  ~CpuContention();
  CpuContention(const CpuContention&) = delete;
  CpuContention& operator=(const CpuContention&) = delete;

  // The last reading.
  bool contended() const { return contended_; }
  // Reads /proc/loadavg again if the last reading is kInterval old (`now`: the caller's
  // monotonic clock).
  void refresh(std::chrono::nanoseconds now);

  static std::uint32_t online_cpus();

 private:
  std::string path_;
  std::uint32_t cpus_;
  int fd_ = -1;  // opened at the first reading; -2 once opening failed
  std::chrono::nanoseconds next_reading_{0};
  bool contended_ = true;
};

}  // namespace vsr::shm
