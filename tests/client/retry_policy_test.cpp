// Where and when to resend (client/src/retry_policy.h).
#include <gtest/gtest.h>

#include "client/src/retry_policy.h"

namespace vsr::client::detail {
namespace {

using namespace std::chrono_literals;

TEST(RetryPolicy, PrimaryIsViewModN) {
  EXPECT_EQ(primary_of(ViewNumber(0), 3), 0u);
  EXPECT_EQ(primary_of(ViewNumber(7), 3), 1u);
  EXPECT_EQ(primary_of(ViewNumber(7), 1), 0u);
  EXPECT_EQ(primary_of(ViewNumber(13), 5), 3u);
}

TEST(RetryPolicy, TimeoutMovesToTheNextReplicaUnlessTheBoardsKnowBetter) {
  EXPECT_EQ(next_target(0, std::nullopt, 3), 1u);
  EXPECT_EQ(next_target(2, std::nullopt, 3), 0u) << "wraps around";
  EXPECT_EQ(next_target(0, 0, 1), 0u) << "a cluster of one has nowhere else to go";
  EXPECT_EQ(next_target(0, 2, 3), 2u) << "the boards name another primary";
  EXPECT_EQ(next_target(1, 1, 3), 2u) << "the boards name the silent replica: move on";
  EXPECT_EQ(next_target(1, 9, 3), 2u) << "a hint out of range is ignored";
}

TEST(RetryPolicy, EveryReplicaIsTriedWithinNAttempts) {
  for (std::uint32_t n = 1; n <= 7; ++n) {
    std::vector<bool> seen(n, false);
    std::uint32_t target = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      seen[target] = true;
      target = next_target(target, std::nullopt, n);
    }
    for (std::uint32_t r = 0; r < n; ++r)
      EXPECT_TRUE(seen[r]) << "replica " << r << " of " << n;
  }
}

TEST(RetryPolicy, PausesDoubleUpToTheCap) {
  Options o;
  o.busy_pause = 1ms;
  o.busy_pause_max = 50ms;
  EXPECT_EQ(pause_after(0, o), 1ms);
  EXPECT_EQ(pause_after(1, o), 2ms);
  EXPECT_EQ(pause_after(5, o), 32ms);
  EXPECT_EQ(pause_after(6, o), 50ms);
  EXPECT_EQ(pause_after(1000, o), 50ms) << "no overflow far past the cap";
}

}  // namespace
}  // namespace vsr::client::detail
