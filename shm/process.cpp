#include "shm/process.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/assert.h"

namespace vsr::shm {
namespace {

// Reads /proc/<pid>/stat into `out`; returns false if the process does not exist.
bool read_stat(std::uint32_t pid, char* out, std::size_t out_size) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%u/stat", pid);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::size_t used = 0;
  while (used + 1 < out_size) {
    const ssize_t n = ::read(fd, out + used, out_size - 1 - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  out[used] = '\0';
  return used > 0;
}

}  // namespace

std::optional<std::uint64_t> process_start_time(std::uint32_t pid) {
  if (pid == 0) return std::nullopt;
  char stat[1024];
  if (!read_stat(pid, stat, sizeof stat)) return std::nullopt;
  // The command name (field 2) may hold spaces and ')', so fields are counted from the
  // last ')'. After it come: state (field 3), then fields 4.. separated by single spaces.
  const char* p = std::strrchr(stat, ')');
  if (p == nullptr || p[1] != ' ') return std::nullopt;
  p += 2;
  const char state = *p;
  if (state == 'Z' || state == 'X' || state == 'x') return std::nullopt;
  for (int field = 3; field < 22; ++field) {
    p = std::strchr(p, ' ');
    if (p == nullptr) return std::nullopt;
    ++p;
  }
  char* end = nullptr;
  const unsigned long long start = std::strtoull(p, &end, 10);
  if (end == p) return std::nullopt;
  return static_cast<std::uint64_t>(start);
}

ProcessIdentity self_identity() {
  const auto pid = static_cast<std::uint32_t>(::getpid());
  const auto start = process_start_time(pid);
  VSR_ASSERT_MSG(start.has_value(), "cannot read /proc/self/stat");
  return ProcessIdentity{pid, *start};
}

bool process_alive(const ProcessIdentity& process) {
  const auto start = process_start_time(process.pid);
  return start.has_value() && *start == process.start_time;
}

}  // namespace vsr::shm
