// <data>/cluster: what a cluster is, written once when it is created and checked on
// every start. Its presence is what tells a fresh cluster (format every replica with
// trustworthy empty state) from an existing one, where an empty replica directory
// means a wiped replica that must recover from its peers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace vsr::supervisor {

struct ClusterFile {
  std::string name;
  std::uint64_t cluster_id = 0;
  std::uint32_t replicas = 0;
};

std::filesystem::path cluster_file_path(const std::filesystem::path& data);
// nullopt if absent; throws std::runtime_error with a clear message if unreadable.
std::optional<ClusterFile> read_cluster_file(const std::filesystem::path& data);
// Written to a temporary file, synced and renamed: never half-written.
void write_cluster_file(const std::filesystem::path& data, const ClusterFile& file);

}  // namespace vsr::supervisor
