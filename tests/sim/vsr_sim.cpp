// vsr-sim: runs seeded simulations of a whole cluster and reports violations.
//
//   vsr-sim --seeds 20000            # seeds 0..19999, on every core
//   vsr-sim --seed 1234 --trace      # replay one seed, printing its faults
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "tests/sim/simulation.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Runs the whole cluster (replicas and clients) in one process on virtual ticks, one run per "
      "seed, with the faults that seed draws: message loss, duplication, delay and reordering, "
      "symmetric and asymmetric partitions, crashes (also in the middle of a write), pauses and "
      "wiped replicas. Each run is checked for agreement, linearizability and liveness. A seed "
      "replays exactly: a failing seed is printed with the command that replays it.",
      "vsr-sim"};
  std::uint64_t seeds = 100;
  std::uint64_t first = 0;
  std::optional<std::uint64_t> one_seed;
  std::optional<std::uint32_t> replicas;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  bool trace = false;
  bool trace_messages = false;
  std::string bug;
  std::string history;
  std::uint32_t check_timeout_s = 300;
  bool power_pages = false;
  app.add_option("--seeds", seeds, "how many seeds to run")->check(CLI::Range(1ULL, 100'000'000ULL));
  app.add_option("--first", first, "the first seed");
  app.add_option("--seed", one_seed, "run just this seed (a replay)");
  app.add_option("--replicas", replicas, "force the cluster size (1, 3, 5 or 7)")
      ->check(CLI::IsMember({1, 3, 5, 7}));
  app.add_option("--jobs,-j", jobs, "seeds run in parallel")->check(CLI::Range(1u, 256u));
  app.add_flag("--trace", trace, "print the faults and recoveries of a run (with --seed)");
  app.add_flag("--trace-messages", trace_messages, "also print every message replicas receive");
  app.add_option("--history", history, "write the run's client history to this file (with --seed)");
  app.add_flag("--power-loss-pages", power_pages,
               "a power loss keeps any prefix of each dirty log page's unsynced writes "
               "(writeback in any order), not none of them");
  app.add_option("--check-timeout", check_timeout_s,
                 "seconds the linearizability check of one seed may take; running out is a "
                 "violation (unknown)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 86400u));
  if (vsr::sim::bugs_available()) {
    app.add_option("--bug", bug,
                   "test build only: put back a review bug (ack-conflicting-entry, "
                   "quorum-from-connected, early-last-normal-view, unstable-primary-order)");
  }
  CLI11_PARSE(app, argc, argv);

  const auto replay_command = [&](std::uint64_t seed) {
    std::string command = std::string(argv[0]) + " --seed " + std::to_string(seed);
    if (replicas) command += " --replicas " + std::to_string(*replicas);
    if (!bug.empty()) command += " --bug " + bug;
    if (power_pages) command += " --power-loss-pages";
    return command + " --trace";
  };

  if (one_seed) {
    vsr::sim::Options options{*one_seed,
                              replicas,
                              bug,
                              trace,
                              trace_messages,
                              history,
                              std::chrono::seconds(check_timeout_s),
                              power_pages};
    const vsr::sim::Result result = vsr::sim::run(options);
    std::cout << result << "\n";
    return result.ok() ? 0 : 1;
  }

  std::atomic<std::uint64_t> next{first};
  std::atomic<std::uint64_t> violations{0};
  std::atomic<std::uint64_t> beyond_budget{0};
  std::mutex print;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (unsigned j = 0; j < jobs; ++j) {
    workers.emplace_back([&] {
      for (;;) {
        const std::uint64_t seed = next.fetch_add(1);
        if (seed >= first + seeds) return;
        vsr::sim::Options options{
            seed,       replicas, bug, false, false, "", std::chrono::seconds(check_timeout_s),
            power_pages};
        const vsr::sim::Result result = vsr::sim::run(options);
        if (result.stalled_beyond_budget) beyond_budget.fetch_add(1);
        if (!result.ok()) {
          violations.fetch_add(1);
          std::lock_guard lock(print);
          std::cout << result << "\n  replay: " << replay_command(seed) << "\n";
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("seeds: %llu, violations: %llu, seeds/s: %.1f\n",
              static_cast<unsigned long long>(seeds),
              static_cast<unsigned long long>(violations.load()), seeds / seconds);
  if (beyond_budget.load() > 0) {
    std::printf("stalled beyond f (not violations: more than f replicas short of state): %llu\n",
                static_cast<unsigned long long>(beyond_budget.load()));
  }
  return violations.load() == 0 ? 0 : 1;
}
