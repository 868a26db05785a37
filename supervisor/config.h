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
  std::filesystem::path replica_binary;  // empty: vsr-replica next to this program
  std::vector<std::string> replica_args;  // passed through (tests: --tick-us, small logs)
};

// $VSR_DATA/<cluster>, or $XDG_STATE_HOME/vsr-shm/<cluster>, or
// $HOME/.local/state/vsr-shm/<cluster>.
std::filesystem::path default_data_dir(const std::string& cluster);
// Cluster names become file and shared-memory names: [A-Za-z0-9_.-]{1,64}.
bool valid_cluster_name(const std::string& name);

}  // namespace vsr::supervisor
