// The simulator must be able to fail: with each review bug put back (a test-only
// switch compiled into vsr_sim_bugs only), a bounded number of seeds finds a
// violation; without it, the same seeds are clean. And a seed replays exactly.
#include <gtest/gtest.h>

#include <iostream>

#include "tests/sim/simulation.h"

namespace vsr::sim {
namespace {

constexpr std::uint64_t kSeedBound = 1000;

// The first seed (from 0) whose run reports a violation, if any within the bound.
std::optional<std::uint64_t> first_violation(const std::string& bug, std::uint32_t replicas) {
  for (std::uint64_t seed = 0; seed < kSeedBound; ++seed) {
    Options options;
    options.seed = seed;
    options.replicas = replicas;
    options.bug = bug;
    const Result result = run(options);
    if (!result.ok()) {
      std::cout << bug << ": seed " << seed << " -> " << result.violations.front() << "\n";
      return seed;
    }
  }
  return std::nullopt;
}

TEST(SimulatorTeeth, FindsAckingAConflictingEntry) {
  EXPECT_TRUE(first_violation("ack-conflicting-entry", 3).has_value());
}

TEST(SimulatorTeeth, FindsAQuorumTakenFromTheConnectedCount) {
  EXPECT_TRUE(first_violation("quorum-from-connected", 3).has_value());
}

TEST(SimulatorTeeth, FindsLastNormalViewBumpedAtTheWrongTime) {
  EXPECT_TRUE(first_violation("early-last-normal-view", 3).has_value());
}

TEST(SimulatorTeeth, FindsAPrimaryFromAnUnstableOrdering) {
  EXPECT_TRUE(first_violation("unstable-primary-order", 3).has_value());
}

TEST(SimulatorTeeth, TheSameSeedsAreCleanWithoutTheBugs) {
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    Options options;
    options.seed = seed;
    options.replicas = 3;
    const Result result = run(options);
    EXPECT_TRUE(result.ok()) << result;
  }
}

TEST(Simulator, ASeedReplaysExactly) {
  for (std::uint64_t seed : {7u, 99u, 12345u}) {
    Options options;
    options.seed = seed;
    const Result a = run(options);
    const Result b = run(options);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << seed;
    EXPECT_EQ(a.ticks, b.ticks);
    EXPECT_EQ(a.operations_ok, b.operations_ok);
    EXPECT_EQ(a.commits, b.commits);
    EXPECT_GT(a.operations_ok, 0u) << "a run that does nothing checks nothing";
  }
}

}  // namespace
}  // namespace vsr::sim
