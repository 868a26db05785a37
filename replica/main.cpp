// vsr-replica: one replica of a vsr-shm cluster. The supervisor starts it; run by
// hand only to debug (the supervisor's `status` and each replica's replica.log say
// what it is doing).
//
//   vsr-replica --cluster NAME --id I --data DIR [--sync none|batch] [tuning...]
//   vsr-replica format --cluster-id ID --replicas N --id I --data DIR [geometry...]
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <optional>
#include <random>
#include <utility>

#include <CLI/CLI.hpp>

#include "replica/core/kv_store.h"
#include "replica/core/replica.h"
#include "replica/process/event_loop.h"
#include "replica/process/options.h"
#include "replica/storage/replica_storage.h"
#include "shm/shm.h"

namespace {

std::atomic<bool> g_stop{false};

void on_stop_signal(int) { g_stop.store(true); }

void say(const std::string& line) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%F %T", std::localtime(&now));
  std::fprintf(stderr, "%s vsr-replica[%d]: %s\n", stamp, ::getpid(), line.c_str());
  std::fflush(stderr);
}

std::uint64_t random_u64() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

int format(std::uint64_t cluster_id, std::uint32_t replicas, std::uint32_t id,
           const std::filesystem::path& data, const vsr::process::Tuning& tuning) {
  try {
    vsr::storage::format_new_cluster(
        data, vsr::journal::Identity{cluster_id, static_cast<vsr::ReplicaId>(id),
                                     static_cast<std::uint8_t>(replicas)},
        tuning.geometry());
  } catch (const std::exception& e) {
    std::cerr << "vsr-replica: cannot format replica " << id << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

// Test builds only (vsr-replica-bugs): a review bug to put back, for vsr-chaos's teeth.
std::string g_bug;

int run(const std::string& cluster, std::uint32_t id, const std::filesystem::path& data,
        vsr::storage::SyncMode sync, const vsr::process::Tuning& tuning) {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);

  std::optional<vsr::shm::Segment> segment;
  try {
    segment.emplace(vsr::shm::Segment::attach(cluster));
  } catch (const std::exception& e) {
    say(std::string("cannot attach: ") + e.what());
    return 1;
  }
  const std::uint32_t replicas = segment->replica_count();
  if (id >= replicas) {
    say("replica id " + std::to_string(id) + " is not below the cluster's " +
        std::to_string(replicas) + " replicas");
    return 2;
  }
  std::optional<vsr::shm::ReplicaPort> port;
  try {
    port.emplace(*segment, id);
  } catch (const std::exception& e) {
    say(std::string("cannot take replica id ") + std::to_string(id) + ": " + e.what());
    return 1;
  }
  const vsr::journal::Identity identity{segment->cluster_id(), static_cast<vsr::ReplicaId>(id),
                                        static_cast<std::uint8_t>(replicas)};
  std::unique_ptr<vsr::storage::ReplicaStorage> storage;
  vsr::storage::StorageOptions storage_options{data, identity, tuning.geometry(), sync};
#ifdef VSR_TEST_BUGS
  storage_options.write_behind = g_bug == "skip-sync-before-send";
#endif
  try {
    storage = vsr::storage::ReplicaStorage::open(storage_options, random_u64());
  } catch (const std::exception& e) {
    say(std::string("cannot open storage: ") + e.what());
    return 1;
  }
  vsr::ReplicaConfig config =
      tuning.replica_config(segment->cluster_id(), static_cast<vsr::ReplicaId>(id), replicas, random_u64());
#ifdef VSR_TEST_BUGS
  config.bugs.ack_conflicting_entry = g_bug == "ack-conflicting-entry";
  config.bugs.quorum_from_connected = g_bug == "quorum-from-connected";
  config.bugs.early_last_normal_view = g_bug == "early-last-normal-view";
  config.bugs.unstable_primary_order = g_bug == "unstable-primary-order";
  if (!g_bug.empty()) say("TEST BUILD: running with the bug '" + g_bug + "' put back");
#endif
  // Sync mode batch: the primary's log is synced by a thread of its own while the loop
  // goes on (BackgroundSync); the core counts its own vote when that sync is reported.
  std::function<void()> log_sync = storage->log_sync_for_background();
  config.self_durability_reported = static_cast<bool>(log_sync);
  if (const std::string why = config.invalid_reason(); !why.empty()) {
    say("bad configuration: " + why);
    return 2;
  }
  vsr::kv::Store store;
  vsr::Replica replica(config, storage->journal(), store, storage->boot());
  say(std::string(storage->boot().kind == vsr::Boot::Kind::recover ? "recovering" : "restarted") +
      (storage->detail().empty() ? "" : " (" + storage->detail() + ")") + ": view " +
      std::to_string(replica.view().value()) + ", op " + std::to_string(replica.op().value()) +
      ", commit " + std::to_string(replica.commit().value()) + ", sync " +
      std::string(vsr::storage::to_string(sync)));

  vsr::process::LoopOptions loop_options;
  loop_options.tick = std::chrono::microseconds(tuning.tick_us);
  // Idle, the primary wakes to send its heartbeat and the backups wake to receive it:
  // sleeping a heartbeat interval between turns costs no timeout more than that.
  loop_options.idle_wait = std::max(loop_options.tick,
                                    std::chrono::microseconds(std::uint64_t{tuning.heartbeat_ms} * 1000));
  loop_options.sync_each_batch = sync == vsr::storage::SyncMode::batch;
  loop_options.log = say;
#ifdef VSR_TEST_BUGS
  loop_options.send_before_sync = g_bug == "skip-sync-before-send";
#endif
  std::optional<vsr::process::BackgroundSync> background;
  if (log_sync) {
    // Rings our own doorbell: a loop waiting for frames turns to report the sync.
    background.emplace(std::move(log_sync), [&segment, id] {
      segment->replica_doorbell(static_cast<std::uint32_t>(id)).ring();
    });
  }
  vsr::process::EventLoop loop(
      loop_options, *segment, *port, replica, [&storage] { storage->sync(); },
      [&store] { return store.digest(); }, [&storage] { return storage->superblock_pending(); },
      background ? &*background : nullptr);
  loop.run(g_stop);
  const auto& c = loop.counters();
  say("stopping: view " + std::to_string(replica.view().value()) + ", op " +
      std::to_string(replica.op().value()) + ", commit " + std::to_string(replica.commit().value()) +
      "; messages in " + std::to_string(c.messages_in) + ", requests " +
      std::to_string(c.requests_in) + ", dropped out " + std::to_string(c.dropped_out) +
      ", undecodable " + std::to_string(c.undecodable));
  // How it waited: what a slow cluster's log should show first.
  const auto& t = port->counters();
  say("waiting: turns " + std::to_string(c.turns) + ", waits " + std::to_string(t.waits) +
      " (work at once " + std::to_string(t.wakes_immediate) + ", in the yield window " +
      std::to_string(t.wakes_in_window) + ", rung awake " + std::to_string(t.wakes_rung) +
      ", timed out " + std::to_string(t.wakes_timeout) + "); doorbells rung for sleepers " +
      std::to_string(t.wakes_sent) + "; ticks not replayed after gaps " +
      std::to_string(c.ticks_dropped) + "; syncs " + std::to_string(c.syncs) +
      " (prepares sent before the sync " + std::to_string(c.prepares_before_sync) +
      "), background syncs " + std::to_string(background ? background->syncs() : 0) + " for " +
      std::to_string(c.background_requests) + " requests");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "One replica of a vsr-shm cluster. vsr-supervisor starts it with the right flags; run it "
      "by hand only to debug. It attaches to the cluster's shared-memory segment (which gives "
      "the number of replicas and the cluster id), opens <data>/replica-<id>, and serves until "
      "SIGTERM or SIGINT. Its log goes to standard error (the supervisor sends it to "
      "<data>/replica-<id>/replica.log).",
      "vsr-replica"};
  std::string cluster = "default";
  std::uint32_t id = 0;
  std::filesystem::path data;
  std::string sync = "none";
  vsr::process::Tuning tuning;
  app.add_option("--cluster", cluster, "cluster name")->capture_default_str();
  app.add_option("--id", id, "this replica's id (0..N-1)");
  app.add_option("--data", data, "the cluster's data directory");
  app.add_option("--sync", sync, "none or batch (see vsr-supervisor --help)")
      ->check(CLI::IsMember({"none", "batch"}))
      ->capture_default_str();
  tuning.add_geometry_flags(app);
  tuning.add_protocol_flags(app);

  std::uint64_t cluster_id = 0;
  std::uint32_t replicas = 3;
  auto* fmt = app.add_subcommand("format", "create the empty state of a new cluster's replica");
  fmt->add_option("--cluster-id", cluster_id, "the cluster's id")->required();
  fmt->add_option("--replicas", replicas, "number of replicas")->required();
  fmt->add_option("--id", id, "this replica's id")->required();
  fmt->add_option("--data", data, "the cluster's data directory")->required();
  tuning.add_geometry_flags(*fmt);
  tuning.add_protocol_flags(*fmt);  // accepted (the supervisor passes one set) and unused
#ifdef VSR_TEST_BUGS
  for (CLI::App* a : {&app, fmt}) {
    a->add_option("--bug", g_bug, "TEST BUILD ONLY: put back a review bug")
        ->check(CLI::IsMember({"ack-conflicting-entry", "quorum-from-connected",
                               "early-last-normal-view", "unstable-primary-order",
                               "skip-sync-before-send"}));
  }
#endif
  CLI11_PARSE(app, argc, argv);

  if (*fmt) return format(cluster_id, replicas, id, data, tuning);
  if (data.empty()) {
    std::cerr << "vsr-replica: --data is required\n";
    return 2;
  }
  return run(cluster, id, data, *vsr::storage::parse_sync_mode(sync), tuning);
}
