#include "replica/process/options.h"

#include <algorithm>

namespace vsr::process {

void Tuning::add_geometry_flags(CLI::App& app) {
  app.add_option("--log-ring-mib", log_ring_mib,
                 "size of the log ring in MiB (fixed when the replica is formatted)")
      ->check(CLI::Range(4ull, 65536ull))
      ->capture_default_str();
  app.add_option("--log-slots", log_slots, "entries the log can hold (fixed at format)")
      ->check(CLI::Range(1024ull, 1ull << 24))
      ->capture_default_str();
}

void Tuning::add_protocol_flags(CLI::App& app) {
  app.add_option("--tick-us", tick_us, "protocol tick in microseconds")
      ->check(CLI::Range(100u, 100000u))
      ->capture_default_str();
  app.add_option("--heartbeat-ms", heartbeat_ms, "an idle primary's Commit heartbeat")
      ->check(CLI::Range(1u, 10000u))
      ->capture_default_str();
  app.add_option("--view-change-timeout-ms", view_change_timeout_ms,
                 "silence from the primary before a view change (jittered up to twice this)")
      ->check(CLI::Range(2u, 100000u))
      ->capture_default_str();
  app.add_option("--pipeline", pipeline, "Prepares in flight")->check(CLI::Range(1u, 64u))->capture_default_str();
  app.add_option("--prepare-fanout", prepare_fanout,
                 "where a primary sends a new Prepare at once: quorum-first (the backups "
                 "its commit needs; the others once it commits, or a tick later) or all")
      ->check(CLI::IsMember({"quorum-first", "all"}))
      ->capture_default_str();
  app.add_option("--batch-requests", batch_requests, "requests per Prepare")
      ->check(CLI::Range(1u, 1024u))
      ->capture_default_str();
  app.add_option("--checkpoint-interval", checkpoint_interval, "ops between checkpoints")
      ->check(CLI::Range(1ull, 1ull << 40))
      ->capture_default_str();
  app.add_option("--client-table", client_table, "client sessions kept (least recently used evicted)")
      ->check(CLI::Range(1u, 1u << 20))
      ->capture_default_str();
}

journal::Geometry Tuning::geometry() const {
  return journal::Geometry{log_slots, log_ring_mib * 1024 * 1024};
}

ReplicaConfig Tuning::replica_config(std::uint64_t cluster, ReplicaId self, std::uint32_t replicas,
                                     std::uint64_t seed) const {
  ReplicaConfig c;
  c.cluster = cluster;
  c.self = self;
  c.replica_count = replicas;
  const auto ticks = [&](std::uint32_t ms) {
    return std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::uint64_t{ms} * 1000 / tick_us));
  };
  c.heartbeat_ticks = ticks(heartbeat_ms);
  c.view_change_timeout_ticks = std::max(c.heartbeat_ticks + 1, ticks(view_change_timeout_ms));
  c.prepare_retry_ticks = std::max<std::uint32_t>(1, c.view_change_timeout_ticks / 3);
  c.gap_wait_ticks = std::max<std::uint32_t>(1, ticks(2));
  c.retry_ticks = std::max<std::uint32_t>(1, c.view_change_timeout_ticks / 3);
  c.pipeline_max = pipeline;
  c.prepare_fanout = prepare_fanout == "all" ? ReplicaConfig::PrepareFanout::all
                                             : ReplicaConfig::PrepareFanout::quorum_first;
  c.batch_max_requests = batch_requests;
  // The ring must hold a quarter of itself plus the pipeline's worth of batches
  // (Replica's constructor checks it); small test rings get smaller batches.
  const std::uint64_t fit = log_ring_mib * 1024 * 1024 / (4 * (std::uint64_t{pipeline} + 1));
  c.batch_max_bytes = static_cast<std::size_t>(std::min<std::uint64_t>(256 * 1024, fit));
  c.request_queue_max = 8192;
  c.checkpoint_interval = checkpoint_interval;
  c.client_table_capacity = client_table;
  c.seed = seed;
  return c;
}

}  // namespace vsr::process
