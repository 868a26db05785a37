#include "supervisor/config.h"

#include <algorithm>
#include <cstdlib>

namespace vsr::supervisor {

std::filesystem::path default_data_dir(const std::string& cluster) {
  if (const char* data = std::getenv("VSR_DATA"); data && *data) {
    return std::filesystem::path(data) / cluster;
  }
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state) {
    return std::filesystem::path(state) / "vsr-shm" / cluster;
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/tmp") / ".local" / "state" / "vsr-shm" /
         cluster;
}

bool valid_cluster_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && name != "." && name != ".." &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.';
         });
}

}  // namespace vsr::supervisor
