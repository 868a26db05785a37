// The nemesis: every interval it injects one fault through the supervisor (kill,
// pause, partition, wipe), prefers the primary, undoes each fault after a while, and
// never lets more than max_down replicas be faulty at once. Every action goes into
// the schedule (kept with the history when a run fails).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "chaos/options.h"

namespace vsr::chaos {

struct FaultCounts {
  std::map<Fault, std::uint64_t> injected;
  std::uint64_t primary_kills = 0;
};

class Nemesis {
 public:
  Nemesis(const Options& options, std::uint32_t max_down, std::mt19937_64& random,
          std::vector<std::string>& schedule);

  // Called often; injects and undoes faults when due. `primary` is the current
  // primary if the status boards show one.
  void step(std::chrono::steady_clock::time_point now, std::optional<std::uint32_t> primary);
  // Undoes every fault (resume, restart, heal) at once.
  void heal_all();
  // Replicas that went down without the nemesis killing them (a crash: an invariant
  // failed, say) are restarted; returns one line per such death, for the anomalies.
  std::vector<std::string> restart_crashed();
  // Replicas faulty now (down, paused, recovering from a wipe, or cut off).
  std::uint32_t faulty() const;
  // What the status boards show: replicas recovering, replicas alive and normal, and
  // each replica's board pid. A wiped replica counts as recovering until its board
  // shows a new process that is normal: right after the wipe its board may still show
  // the killed process's last state (normal), and trusting that once let a second
  // wipe follow while the first was still recovering (two of three without state).
  void observe(const std::set<std::uint32_t>& recovering, const std::set<std::uint32_t>& normal,
               const std::map<std::uint32_t, std::uint64_t>& board_pids);
  const FaultCounts& counts() const { return counts_; }

 private:
  bool command(const std::vector<std::string>& words);
  void inject(std::chrono::steady_clock::time_point now, std::optional<std::uint32_t> primary);
  std::chrono::milliseconds fault_length();

  const Options& options_;
  std::uint32_t max_down_;
  std::mt19937_64& random_;
  std::vector<std::string>& schedule_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point next_fault_;
  std::map<std::uint32_t, std::chrono::steady_clock::time_point> down_;    // killed: restart at
  std::map<std::uint32_t, std::chrono::steady_clock::time_point> paused_;  // resume at
  std::set<std::uint32_t> cut_off_;  // the minority side of the current partition
  std::optional<std::chrono::steady_clock::time_point> heal_at_;
  // Recovering from a wipe: what the boards say, and every wipe not yet seen normal.
  std::set<std::uint32_t> recovering() const;

  std::set<std::uint32_t> recovering_;  // as the boards last said
  std::map<std::uint32_t, std::uint64_t> wiped_;  // wiped, not yet normal: board pid at the wipe
  std::map<std::uint32_t, std::uint64_t> board_pids_;  // as last observed
  FaultCounts counts_;
};

}  // namespace vsr::chaos
