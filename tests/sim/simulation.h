// One seeded run of a whole cluster and its clients in one process, on virtual
// ticks. The seed decides everything: the cluster size, the fault mix (swarm
// testing: each seed draws its own), the schedule and every message's fate, so a
// seed replays exactly.
//
// Checkers, on every seed:
//  - agreement: no two replicas ever commit different entries at one op, a
//    committed entry never changes, and replicas that executed the same ops hold
//    the same state (state machine and client table digests);
//  - linearizability of the clients' history (vsr-check);
//  - liveness: after the final heal, every outstanding request completes and the
//    replicas converge within kLivenessTicks.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace vsr::sim {

inline constexpr std::uint64_t kLivenessTicks = 3000;

struct Options {
  std::uint64_t seed = 0;
  std::optional<std::uint32_t> replicas;  // default: drawn from the seed
  // Test-only: the name of a review bug to put back (see replica/core/config.h).
  // Only the vsr_sim_bugs build accepts one.
  std::string bug;
  bool trace = false;          // print every fault and view change
  bool trace_messages = false; // also print every message a replica receives
  std::string history_path;    // write the client history here (native format)
  // The linearizability check's time limit. A search that runs out is a violation
  // ("unknown"): the simulator never passes a history it could not decide. Rare
  // histories with many indeterminate writes to one key need minutes (seed 503542:
  // 93 operations, 13 indeterminate, 67 s on a loaded machine, linearizable).
  std::chrono::seconds check_timeout{300};
  // What a power loss leaves of the writes a replica had not synced: none of them
  // (whole), or per 4 KiB page any prefix of them (pages: writeback in any order, so a
  // slot can survive without its entry's body).
  bool power_loss_pages = false;
};

struct FaultCounts {
  std::uint64_t crashes = 0;
  std::uint64_t torn_crashes = 0;
  std::uint64_t wipes = 0;
  std::uint64_t pauses = 0;
  std::uint64_t partitions = 0;
  std::uint64_t recoveries = 0;
  std::uint64_t bit_flips = 0;
  std::uint64_t faulty_entries = 0;  // found on restart (a flipped bit in a held entry)
  std::uint64_t repairs = 0;         // replicas whose faulty entries peers then repaired
  std::uint64_t power_losses = 0;    // a replica lost every write it had not synced
  std::uint64_t power_cuts = 0;      // every replica did at once (the whole host)
  std::uint64_t hints = 0;           // the supervisor's "replica down" hints delivered
  std::uint64_t false_hints = 0;     // ... about a replica that was in fact up
};

struct Result {
  std::uint64_t seed = 0;
  std::uint32_t replicas = 0;
  std::vector<std::string> violations;
  std::uint64_t ticks = 0;
  std::uint64_t operations_ok = 0;
  std::uint64_t operations_indeterminate = 0;
  std::uint64_t commits = 0;
  std::uint64_t max_view = 0;
  std::uint64_t messages = 0;
  // The primary's own vote came from delayed background-sync reports (on_durable), as in
  // sync mode batch; how many such reports reached a replica.
  bool background_sync = false;
  std::uint64_t durable_reports = 0;
  // ReplicaConfig::prepare_fanout was `all` (else quorum_first), drawn per seed.
  bool fanout_all = false;
  FaultCounts faults;
  // Did not converge with more than f replicas short of their state (wiped, torn,
  // awaiting a repair) at the deadline: only safety is promised then. Only power
  // losses with --power-loss-pages go beyond f (they tear entries on top of the
  // budgeted faults); every other fault is drawn within the budget.
  bool stalled_beyond_budget = false;
  std::uint64_t trace_hash = 0;  // equal for equal runs: shows a replay is identical

  bool ok() const { return violations.empty(); }
};

Result run(const Options& options);
// Whether this build has the test-only bug switches.
bool bugs_available();
std::ostream& operator<<(std::ostream& out, const Result& result);

}  // namespace vsr::sim
