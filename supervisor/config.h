// What `vsr-supervisor start` is told, with the defaults the README documents.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vsr::supervisor {

enum class RestartPolicy { never, on_crash };

struct Config {
  std::string cluster = "default";
  std::uint32_t replicas = 3;
  std::filesystem::path data;  // empty: default_data_dir(cluster)
  std::string sync = "none";   // none | batch
  std::uint32_t client_slots = 32;
  RestartPolicy restart = RestartPolicy::on_crash;
  bool detach = false;
  // With detach: stay in the caller's session instead of starting a new one. Linux
  // autogroup schedules each session as one group, and a process's sched_yield hands
  // the CPU only to processes of its own group: clients in another session than the
  // replicas wait longer for them when busy processes outnumber the cores (README).
  bool keep_session = false;
  std::filesystem::path replica_binary;  // empty: vsr-replica next to this program
  std::vector<std::string> replica_args;  // passed through (tests: --tick-us, small logs)
};

// $VSR_DATA/<cluster>, or $XDG_STATE_HOME/vsr-shm/<cluster>, or
// $HOME/.local/state/vsr-shm/<cluster>.
std::filesystem::path default_data_dir(const std::string& cluster);
// Cluster names become file and shared-memory names: [A-Za-z0-9_.-]{1,64}.
bool valid_cluster_name(const std::string& name);

}  // namespace vsr::supervisor
