// The rule that decides, message by message, how a replica waits after a turn
// (turn_work.h feeding wait_mode.h).
#include "replica/process/turn_work.h"

#include <gtest/gtest.h>

#include <iterator>
#include <vector>

#include "replica/process/wait_mode.h"

namespace vsr::process {
namespace {

using namespace std::chrono_literals;

constexpr MessageKind kAllKinds[] = {
    MessageKind::prepare,           MessageKind::prepare_ok,     MessageKind::commit,
    MessageKind::start_view_change, MessageKind::do_view_change, MessageKind::start_view,
    MessageKind::get_state,         MessageKind::new_state,      MessageKind::recovery,
    MessageKind::recovery_response, MessageKind::request_entry,  MessageKind::entry_repair,
    MessageKind::entry_nack,        MessageKind::request,        MessageKind::reply};

Prepare prepare_of(std::uint64_t op, std::uint64_t commit) {
  Prepare p;
  p.entry.header.op = OpNumber(op);
  p.commit = OpNumber(commit);
  return p;
}

// The kinds, in kAllKinds order, that `judge` rates as `work`.
std::vector<MessageKind> kinds_judged(TurnWork (*judge)(MessageKind), TurnWork work) {
  std::vector<MessageKind> kinds;
  for (const MessageKind kind : kAllKinds)
    if (judge(kind) == work) kinds.push_back(kind);
  return kinds;
}

TEST(TurnWork, ReceivedHeartbeatsAreNoWorkAndPreparesWaitForDecoding) {
  const std::vector<MessageKind> quiet{MessageKind::prepare, MessageKind::commit};
  EXPECT_EQ(kinds_judged(work_of_received, TurnWork::none), quiet);
  EXPECT_TRUE(kinds_judged(work_of_received, TurnWork::deferred).empty());
  EXPECT_EQ(kinds_judged(work_of_received, TurnWork::protocol).size(),
            std::size(kAllKinds) - quiet.size());
}

TEST(TurnWork, APrepareOfACommittedOpIsDeferred) {
  EXPECT_EQ(work_of_prepare(prepare_of(7, 6)), TurnWork::protocol);  // the primary waits
  EXPECT_EQ(work_of_prepare(prepare_of(7, 7)), TurnWork::deferred);  // held back for us
  EXPECT_EQ(work_of_prepare(prepare_of(7, 9)), TurnWork::deferred);
}

TEST(TurnWork, SendingHeartbeatsAndPrepareOksIsNoWork) {
  const std::vector<MessageKind> quiet{MessageKind::prepare_ok, MessageKind::commit};
  EXPECT_EQ(kinds_judged(work_of_sent, TurnWork::none), quiet);
  EXPECT_TRUE(kinds_judged(work_of_sent, TurnWork::deferred).empty());
  EXPECT_EQ(kinds_judged(work_of_sent, TurnWork::protocol).size(),
            std::size(kAllKinds) - quiet.size());
}

TEST(TurnWork, ATurnRemembersBothKindsOfWork) {
  TurnWorkSeen seen;
  seen.note(TurnWork::none);
  EXPECT_FALSE(seen.protocol);
  EXPECT_FALSE(seen.deferred);
  seen.note(TurnWork::deferred);
  seen.note(TurnWork::none);
  EXPECT_TRUE(seen.deferred);
  EXPECT_FALSE(seen.protocol);
  seen.note(TurnWork::protocol);
  seen.note(TurnWork::deferred);
  EXPECT_TRUE(seen.protocol);
  EXPECT_TRUE(seen.deferred);
}

// The turns of a held-back backup and of a backup on the critical path, as the event
// loop feeds them to WaitMode.
TEST(TurnWork, AHeldBackBackupNapsAndATeamBackupYieldPolls) {
  const auto t0 = WaitMode::Clock::time_point{} + 1h;
  auto mode_after = [&](const Prepare& received) {
    TurnWorkSeen turn;
    turn.note(work_of_received(MessageKind::prepare));
    turn.note(work_of_prepare(received));
    turn.note(work_of_sent(MessageKind::prepare_ok));
    WaitMode wait(20ms);
    wait.after_turn(t0, turn.protocol, turn.deferred);
    return wait.mode(t0 + 1ms);
  };
  EXPECT_EQ(mode_after(prepare_of(8, 8)), WaitMode::Mode::nap);
  EXPECT_EQ(mode_after(prepare_of(8, 7)), WaitMode::Mode::yield_then_sleep);
}

}  // namespace
}  // namespace vsr::process
