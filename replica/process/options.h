// vsr-replica's flags: everything a replica process needs that the segment does not
// say (the segment gives the cluster id and the number of replicas).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "replica/core/config.h"
#include "replica/journal/log_ring.h"

namespace vsr::process {

struct Tuning {
  std::uint32_t tick_us = 1000;
  std::uint32_t heartbeat_ms = 10;
  std::uint32_t view_change_timeout_ms = 60;
  std::uint32_t pipeline = 8;
  std::string prepare_fanout = "quorum-first";  // or "all" (ReplicaConfig::PrepareFanout)
  std::uint32_t batch_requests = 256;
  std::uint64_t checkpoint_interval = 10000;
  std::uint32_t client_table = 4096;
  std::uint64_t log_ring_mib = 64;
  std::uint64_t log_slots = 16384;

  // Adds the flags to `app` (both `run` and `format` take the geometry ones).
  void add_geometry_flags(CLI::App& app);
  void add_protocol_flags(CLI::App& app);
  journal::Geometry geometry() const;
  ReplicaConfig replica_config(std::uint64_t cluster, ReplicaId self, std::uint32_t replicas,
                               std::uint64_t seed) const;
};

}  // namespace vsr::process
