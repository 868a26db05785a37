#include "supervisor/leftovers.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

namespace vsr::supervisor {

std::vector<pid_t> find_replica_processes(const std::string& cluster) {
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st {};
    if (::stat(entry.path().c_str(), &st) != 0 || st.st_uid != ::getuid()) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> argv;
    for (std::size_t at = 0; at < cmdline.size();) {
      const auto end = cmdline.find('\0', at);
      argv.push_back(cmdline.substr(at, end == std::string::npos ? std::string::npos : end - at));
      if (end == std::string::npos) break;
      at = end + 1;
    }
    if (argv.empty() || std::filesystem::path(argv[0]).filename() != "vsr-replica") continue;
    for (std::size_t i = 1; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--cluster" && argv[i + 1] == cluster) {
        found.push_back(static_cast<pid_t>(std::stol(name)));
        break;
      }
    }
  }
  return found;
}

std::size_t kill_leftover_replicas(const std::string& cluster) {
  const auto pids = find_replica_processes(cluster);
  for (pid_t pid : pids) ::kill(pid, SIGKILL);
  // They are not our children: wait until /proc shows them gone (or zombies of a
  // parent that no longer exists, which init reaps).
  for (int i = 0; i < 200 && !find_replica_processes(cluster).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pids.size();
}

}  // namespace vsr::supervisor
