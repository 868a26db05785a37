#include "shm/cpu_contention.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <utility>

namespace vsr::shm {

std::optional<std::uint32_t> parse_loadavg_running(std::string_view line) {
  // Three load averages, then "running/total".
  std::size_t at = 0;
  for (int field = 0; field < 3; ++field) {
    at = line.find(' ', at);
    if (at == std::string_view::npos) return std::nullopt;
    ++at;
  }
  const std::size_t slash = line.find('/', at);
  if (slash == std::string_view::npos || slash == at) return std::nullopt;
  std::uint32_t running = 0;
  const char* first = line.data() + at;
  const char* last = line.data() + slash;
  const auto [end, error] = std::from_chars(first, last, running);
  if (error != std::errc{} || end != last || running == 0) return std::nullopt;
  return running;
}

std::uint32_t CpuContention::usable_cpus() {
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  std::uint32_t cpus = online > 0 ? static_cast<std::uint32_t>(online) : 0;
  // A process confined to fewer CPUs (taskset, a cpuset) competes for those alone.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    cpus = std::min(cpus, static_cast<std::uint32_t>(CPU_COUNT(&allowed)));
  }
  return cpus;
}

CpuContention::CpuContention(std::string path, std::uint32_t cpus)
    : path_(std::move(path)), cpus_(cpus) {}

CpuContention::~CpuContention() {
  if (fd_ >= 0) ::close(fd_);
}

void CpuContention::refresh(std::chrono::nanoseconds now) {
  if (now < next_reading_) return;
  next_reading_ = now + kInterval;
  contended_ = true;
  if (fd_ == -1) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fd_ = -2;
  }
  if (fd_ < 0) return;
  char buffer[128];
  const ssize_t n = ::pread(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) return;
  const std::optional<std::uint32_t> running =
      parse_loadavg_running(std::string_view(buffer, static_cast<std::size_t>(n)));
  contended_ = !running.has_value() || *running > cpus_;
}

}  // namespace vsr::shm
