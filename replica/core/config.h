// Configuration of one replica's protocol core. Every duration is in ticks: the
// core never reads a clock; its driver calls tick() at a fixed period.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "replica/core/types.h"

namespace vsr {

#ifdef VSR_TEST_BUGS
// Test-only switches that put back bugs from the review (seeds/000_*.txt), to show
// that the simulator and the chaos harness catch them. Compiled only into test
// builds (the macro is never defined for the release targets).
struct BugSwitches {
  // R#1/R#4: adopt a higher view straight from a Prepare, keeping the old log, and
  // acknowledge a Prepare at op <= our op without checking that we hold that entry.
  bool ack_conflicting_entry = false;
  // R#3: count the commit quorum from the replicas heard from recently, not from N.
  bool quorum_from_connected = false;
  // last_normal_view set on entering view change instead of on becoming normal.
  bool early_last_normal_view = false;
  // R#2: each replica orders the members its own way when computing primary(v), and
  // (as the reviewed code did) accepts Prepare, Commit and StartView from any sender
  // that claims the view.
  bool unstable_primary_order = false;
};
#endif

struct ReplicaConfig {
  std::uint64_t cluster = 0;
  ReplicaId self = 0;
  std::uint32_t replica_count = 3;

  std::uint32_t heartbeat_ticks = 10;           // an idle primary sends Commit this often
  std::uint32_t view_change_timeout_ticks = 50;  // silence from the primary before a view change
  std::uint32_t prepare_retry_ticks = 20;        // the primary resends unacknowledged Prepares
  std::uint32_t gap_wait_ticks = 5;              // a backup waits this long on a gap, then GetState
  std::uint32_t retry_ticks = 20;  // resend SVC/DVC, GetState, Recovery, RequestEntry

  std::uint32_t pipeline_max = 8;  // Prepares in flight (op - commit) at the primary
  // Which backups a new Prepare goes to at once.
  //   all:          every backup.
  //   quorum_first: for a Prepare of at most quorum_first_requests_max requests (light
  //                 load, where latency is what counts), only as many backups as the
  //                 commit quorum needs, those that acknowledged furthest; the others
  //                 get it once it commits, after a tick without commits, or as soon as
  //                 a hint says a backup died. A bigger Prepare (a busy primary: every
  //                 core's work counts) goes to every backup. The same messages, some
  //                 later: with more processes than cores, a backup whose ack is not
  //                 needed stops competing for a core with the ones on the critical
  //                 path, and its driver may let such Prepares gather while it sleeps
  //                 (README "Performance": one session's p50 about 3 us lower).
  enum class PrepareFanout : std::uint8_t { all, quorum_first };
  PrepareFanout prepare_fanout = PrepareFanout::quorum_first;
  std::size_t quorum_first_requests_max = 4;
  std::uint32_t batch_max_requests = 256;
  std::size_t batch_max_bytes = 256 * 1024;
  std::size_t request_queue_max = 4096;  // client requests waiting for a Prepare

  // How the primary's own copy of an entry counts toward its commit quorum. false: the
  // driver makes the log durable before it hands the core its next input (sync mode
  // none, or a synchronous sync each batch), so every appended entry counts at once.
  // true: the driver syncs the primary's log in the background and reports what is
  // durable with on_durable(); until then an entry needs f+1 backups' PrepareOks.
  bool self_durability_reported = false;

  std::uint64_t checkpoint_interval = 1000;  // ops between checkpoints (also when the ring fills)
  std::size_t client_table_capacity = 1024;

  // Seeds the timeout jitter; an input, so the core stays deterministic.
  std::uint64_t seed = 0;

#ifdef VSR_TEST_BUGS
  BugSwitches bugs;
#endif

  std::uint32_t f() const { return (replica_count - 1) / 2; }
  std::uint32_t quorum() const { return f() + 1; }
  // Why the configuration is unusable, or empty.
  std::string invalid_reason() const;
};

}  // namespace vsr
