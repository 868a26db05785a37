// Finding the primary from the status boards (client/src/primary_hint.h).
#include <gtest/gtest.h>

#include <vector>

#include "client/src/primary_hint.h"
#include "replica/core/types.h"
#include "replica/process/event_loop.h"

namespace vsr::client::detail {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kNow = 1'000'000'000'000;  // ns
constexpr auto kFresh = std::chrono::nanoseconds(1s);

shm::ReplicaStatus board(process::Role role, vsr::Status status, std::uint64_t view,
                         std::uint64_t age_ns = 0) {
  shm::ReplicaStatus b;
  b.pid = 100;
  b.role = static_cast<std::uint32_t>(role);
  b.status = static_cast<std::uint32_t>(status);
  b.view = view;
  b.heartbeat = 1;
  b.updated_ns = kNow - age_ns;
  return b;
}

const auto kPrimary = process::Role::primary;
const auto kBackup = process::Role::backup;
const auto kNormal = vsr::Status::normal;

TEST(PrimaryHint, ThePrimaryOfTheHighestView) {
  std::vector<shm::ReplicaStatus> boards = {
      board(kPrimary, kNormal, 3), board(kPrimary, kNormal, 4), board(kBackup, kNormal, 4)};
  EXPECT_EQ(choose_primary(boards, kNow, kFresh), 1u);
  boards[1] = board(kBackup, kNormal, 4);
  EXPECT_EQ(choose_primary(boards, kNow, kFresh), 0u) << "the only primary left";
}

TEST(PrimaryHint, OnlyFreshWholeNormalPrimaries) {
  const std::uint64_t old = 2'000'000'000;
  EXPECT_EQ(choose_primary(std::vector{board(kPrimary, kNormal, 0, old)}, kNow, kFresh),
            std::nullopt)
      << "stale heartbeat";
  EXPECT_EQ(choose_primary(std::vector{board(kPrimary, vsr::Status::view_change, 0)}, kNow, kFresh),
            std::nullopt)
      << "not normal";
  EXPECT_EQ(choose_primary(std::vector{board(kBackup, kNormal, 0)}, kNow, kFresh), std::nullopt);
  auto torn = board(kPrimary, kNormal, 0);
  torn.consistent = false;
  EXPECT_EQ(choose_primary(std::vector{torn}, kNow, kFresh), std::nullopt) << "torn read";
  auto never = board(kPrimary, kNormal, 0);
  never.pid = 0;
  EXPECT_EQ(choose_primary(std::vector{never}, kNow, kFresh), std::nullopt) << "never published";
  EXPECT_EQ(choose_primary(std::vector{board(kPrimary, kNormal, 0, 999'999'999)}, kNow, kFresh), 0u)
      << "just fresh";
}

TEST(PrimaryHint, APrimaryOfAViewItCannotLeadIsIgnored) {
  // Replica 1 of 3 cannot be the primary of view 3 (3 mod 3 = 0).
  const std::vector boards = {board(kBackup, kNormal, 3), board(kPrimary, kNormal, 3),
                              board(kBackup, kNormal, 3)};
  EXPECT_EQ(choose_primary(boards, kNow, kFresh), std::nullopt);
}

TEST(PrimaryHint, FreshnessOfAnyBoard) {
  std::vector boards = {board(kBackup, kNormal, 0, 5'000'000'000),
                        board(kBackup, kNormal, 0, 5'000'000'000)};
  EXPECT_FALSE(any_board_fresh(boards, kNow, kFresh));
  boards[1] = board(kBackup, kNormal, 0);
  EXPECT_TRUE(any_board_fresh(boards, kNow, kFresh));
  auto future = board(kBackup, kNormal, 0);
  future.updated_ns = kNow + 1000;
  EXPECT_TRUE(board_fresh(future, kNow, kFresh)) << "a stamp just ahead of our clock is now";
  EXPECT_FALSE(any_board_fresh(std::vector<shm::ReplicaStatus>{}, kNow, kFresh));
}

TEST(PrimaryHint, MonotonicClockMatchesTheBoards) {
  // The boards are stamped with CLOCK_MONOTONIC; so is our "now".
  shm::StatusBoard b;
  b.publish(shm::StatusUpdate{1, 1, 1, 0, 0, 0, 0});
  const auto read = b.read();
  const std::uint64_t now = monotonic_now_ns();
  EXPECT_LE(read.updated_ns, now);
  EXPECT_LT(now - read.updated_ns, 1'000'000'000u);
}

}  // namespace
}  // namespace vsr::client::detail
