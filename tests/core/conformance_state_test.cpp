// Conformance: "State transfer (VRR 5.2)", "Recovery (VRR 4.3)", "Durability and
// restart", "Checkpoints (VRR 5.1)" of docs/vr-rules.md, and client sessions.
#include <gtest/gtest.h>

#include <optional>

#include "replica/core/kv_operation.h"
#include "tests/core/harness.h"

namespace vsr::test {
namespace {

// Replica 1's GetState of view 0 from `from` to replica 2, and replica 2's one answer
// (nullopt if it did not answer exactly once). Nothing is left in flight.
std::optional<NewState> state_from_replica_2(Harness& h, OpNumber from) {
  h.in_flight().clear();
  h.deliver(Sent{1, 2, GetState{ViewNumber(0), from, false, 1}});
  h.collect();
  const auto answers = h.sent<NewState>(1);
  h.in_flight().clear();
  if (answers.size() != 1) return std::nullopt;
  return answers[0].second;
}

// ---- State transfer ----

TEST(StateTransfer, OnlyAReplicaNormalInTheRequestedViewAnswersGetState) {
  Harness h(3);
  h.boot_all();
  register_some(h, 0, 2);
  h.deliver(Sent{2, 1, GetState{ViewNumber(5), OpNumber(0), false, 2}});  // another view
  h.collect();
  EXPECT_TRUE(h.sent<NewState>().empty());
  h.deliver(Sent{2, 1, GetState{ViewNumber(0), OpNumber(0), false, 2}});
  h.collect();
  const auto answers = h.sent<NewState>(2);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].second.log.start, OpNumber(0));
  EXPECT_EQ(answers[0].second.log.end(), h.r(1).op());
  h.in_flight().clear();
  tick_until_view_change(h, 1);  // replica 1 is no longer normal
  h.in_flight().clear();
  h.deliver(Sent{2, 1, GetState{ViewNumber(1), OpNumber(0), false, 2}});
  h.collect();
  EXPECT_TRUE(h.sent<NewState>().empty());
}

TEST(StateTransfer, R6_ALaggardAsksWithTheNewViewAndKeepsItsLogUntilTheAnswer) {
  Harness h(3);
  h.node(2).seed_entry(ViewNumber(0), 5);  // an uncommitted entry of the old view
  h.boot_all();
  // Replica 2 hears of view 4 from its primary (replica 1).
  h.deliver(Sent{1, 2, Commit{ViewNumber(4), OpNumber(0), 1}});
  h.collect();
  const auto asks = h.sent<GetState>(1);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].second.view, ViewNumber(4)) << "addressed with the new view (R#6)";
  EXPECT_EQ(asks[0].second.op, OpNumber(0)) << "from its commit number";
  // Its uncommitted entry stays until the new view's log replaces it atomically.
  EXPECT_EQ(h.r(2).op(), OpNumber(1));
  EXPECT_EQ(h.r(2).last_normal_view(), ViewNumber(0));
  Node& p = h.node(1);
  p.crash();
  const Entry e = p.seed_entry(ViewNumber(4), 8);
  h.deliver(Sent{1, 2, NewState{ViewNumber(4), OpNumber(1), OpNumber(0), false, std::nullopt,
                                LogSuffix{OpNumber(0), root_checksum(kCluster), {e}}, 1}});
  EXPECT_EQ(h.r(2).status(), Status::normal);
  EXPECT_EQ(h.r(2).last_normal_view(), ViewNumber(4));
  EXPECT_EQ(h.r(2).journal().log().checksum_at(OpNumber(1)), e.header.checksum);
}

TEST(StateTransfer, R6_ANewStateOfAnOlderViewIsIgnored) {
  Harness h(3);
  h.boot_all();
  h.deliver(Sent{1, 2, Commit{ViewNumber(4), OpNumber(0), 1}});
  ASSERT_EQ(h.r(2).status(), Status::state_transfer);
  h.deliver(Sent{0, 2, NewState{ViewNumber(0), OpNumber(0), OpNumber(0), false, std::nullopt,
                                LogSuffix{OpNumber(0), root_checksum(kCluster), {}}, 0}});
  EXPECT_EQ(h.r(2).status(), Status::state_transfer);
  EXPECT_EQ(h.r(2).view(), ViewNumber(4));
}

TEST(StateTransfer, ANewStateIsAppliedOnlyIfItChainsOntoWhatTheReplicaHolds) {
  Harness h(3);
  h.boot_all();
  h.deliver(Sent{1, 2, Commit{ViewNumber(4), OpNumber(0), 1}});
  Node& p = h.node(1);
  p.crash();
  p.seed_entry(ViewNumber(4), 1);
  const Entry second = p.seed_entry(ViewNumber(4), 1);
  // Claims to continue from op 1 with a checksum replica 2 does not hold.
  h.deliver(Sent{1, 2, NewState{ViewNumber(4), OpNumber(2), OpNumber(0), false, std::nullopt,
                                LogSuffix{OpNumber(1), second.header.parent, {second}}, 1}});
  EXPECT_EQ(h.r(2).status(), Status::state_transfer);
  EXPECT_EQ(h.r(2).op(), OpNumber(0));
}

TEST(StateTransfer, ACompactedLogIsSentAsACheckpointAndTheLogAfterIt) {
  Harness h(3, [](ReplicaConfig& c) { c.checkpoint_interval = 3; });
  h.boot_all();
  const SessionId s = h.register_session(0, 100, 1);
  // Replica 2 misses everything from here on.
  for (std::uint64_t n = 1; n <= 7; ++n) {
    Bytes op;
    kv::encode(kv::Operation{kv::OpKind::put, "k" + std::to_string(n), "v", {}}, op);
    h.request(0, 100, Request{s, RequestNumber(n), op});
    h.run([](const Sent& m) { return m.to != 2; });
  }
  ASSERT_GE(h.r(0).journal().checkpoint_op(), OpNumber(3));
  h.deliver(Sent{2, 0, GetState{ViewNumber(0), OpNumber(0), false, 2}});
  h.collect();
  const auto answers = h.sent<NewState>(2);
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_TRUE(answers[0].second.checkpoint.has_value());
  EXPECT_EQ(answers[0].second.checkpoint->op, h.r(0).journal().checkpoint_op());
  h.run();
  h.tick(0, 5);
  h.run();
  EXPECT_EQ(h.r(2).commit(), h.r(0).commit());
  EXPECT_EQ(h.node(2).store.digest(), h.node(0).store.digest());
  EXPECT_EQ(h.r(2).client_table().digest(), h.r(0).client_table().digest());
}

// vsr-sim seed 5021322. Backup 1 acknowledged ops 2 and 3 of view 0 (committed with the
// primary) while backup 2 was down; then backup 1 restarted with a faulty entry, which put it
// into view change, and a Commit from the primary into state transfer, both in view 0. Its
// GetState reached replica 2, back up with ops up to 1, whose NewState of view 0 is a
// shorter log of the same view. Installing it cut ops 2 and 3 while last_normal_view stayed
// 0: replicas 1 and 2 then made view 1 without them, and op 2 was committed twice.
TEST(StateTransfer, AShorterLogOfTheSameViewCutsNothing) {
  Harness h(3);
  h.boot_all();
  register_some(h, 0, 1);
  // Replica 2 misses ops 2 and 3; replicas 0 and 1 commit them.
  for (std::uint64_t nonce = 2; nonce <= 3; ++nonce) {
    h.request(0, 100, Request{SessionId(0), RequestNumber(nonce), {}});
    h.run([](const Sent& m) { return m.to != 2; });
  }
  ASSERT_EQ(h.r(0).commit(), OpNumber(3));
  ASSERT_EQ(h.r(1).op(), OpNumber(3));
  ASSERT_EQ(h.r(2).op(), OpNumber(1));
  h.in_flight().clear();
  // Replica 1 restarts with a faulty op 1: view change in view 0, then state transfer.
  h.node(1).restart_with_faulty_entry(OpNumber(1));
  ASSERT_EQ(h.r(1).status(), Status::view_change);
  h.deliver(Sent{0, 1, Commit{ViewNumber(0), OpNumber(3), 0}});
  ASSERT_EQ(h.r(1).status(), Status::state_transfer);
  ASSERT_EQ(h.r(1).last_normal_view(), ViewNumber(0));
  // Replica 2 answers a GetState of view 0 with its log (0..1].
  const auto answer = state_from_replica_2(h, OpNumber(0));
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->log.end(), OpNumber(1));
  h.deliver(Sent{2, 1, *answer});
  EXPECT_EQ(h.r(1).op(), OpNumber(3)) << "the entries it acknowledged stay";
  EXPECT_EQ(h.r(1).journal().log().checksum_at(OpNumber(3)),
            h.r(0).journal().log().checksum_at(OpNumber(3)));
  EXPECT_EQ(h.r(1).last_normal_view(), ViewNumber(0));
  // And a view change by replicas 1 and 2 alone keeps every committed op.
  h.node(0).crash();
  h.in_flight().clear();
  h.run();  // replica 1 repairs its op 1 from replica 2's copy
  tick_until_view_change(h, 1);
  h.run([](const Sent& m) { return m.to != 0 && m.from != 0; });
  ASSERT_EQ(h.r(1).status(), Status::normal);
  EXPECT_EQ(h.r(1).view(), ViewNumber(1));
  EXPECT_GE(h.r(1).op(), OpNumber(3));
  EXPECT_EQ(h.r(2).journal().log().checksum_at(OpNumber(3)),
            h.node(0).journal.log().checksum_at(OpNumber(3)));
}

// vsr-sim seed 6018511: the same, but the lagging replica had compacted its log into a
// checkpoint above the asker's commit number, so its NewState came as that checkpoint and
// the log after it, shorter than the asker's. Installing the checkpoint cut the acknowledged
// entries just as well.
TEST(StateTransfer, AShorterStateOfTheSameViewCutsNothingEvenAsACheckpoint) {
  Harness h(3, [](ReplicaConfig& c) { c.checkpoint_interval = 4; });
  h.boot_all();
  register_some(h, 0, 3);
  heartbeat(h, 0);
  ASSERT_EQ(h.r(1).commit(), OpNumber(3));
  // Three pipelined Prepares, all carrying commit 3: replica 1 acknowledges ops 4-6 and
  // never hears of a later commit; replica 2 gets op 4 and commit 6, and checkpoints at 4.
  for (std::uint64_t nonce = 4; nonce <= 6; ++nonce)
    h.request(0, 100, Request{SessionId(0), RequestNumber(nonce), {}});
  h.run([](const Sent& m) {
    if (m.to == 1) return !std::holds_alternative<Commit>(m.message);
    if (m.to != 2) return true;
    const Prepare* prepare = std::get_if<Prepare>(&m.message);
    return prepare == nullptr || prepare->entry.header.op == OpNumber(4);
  });
  h.tick(0, h.node(0).config.heartbeat_ticks);
  h.run([](const Sent& m) { return m.to == 2 && std::holds_alternative<Commit>(m.message); });
  h.in_flight().clear();
  ASSERT_EQ(h.r(1).op(), OpNumber(6));
  ASSERT_EQ(h.r(1).commit(), OpNumber(3));
  ASSERT_EQ(h.r(2).op(), OpNumber(4));
  ASSERT_EQ(h.r(2).journal().checkpoint_op(), OpNumber(4));
  // Replica 1 restarts with a faulty op 4, which it cannot execute, and ends up in state
  // transfer in view 0.
  h.node(1).restart_with_faulty_entry(OpNumber(4));
  h.deliver(Sent{0, 1, Commit{ViewNumber(0), OpNumber(6), 0}});
  ASSERT_EQ(h.r(1).status(), Status::state_transfer);
  ASSERT_LT(h.r(1).commit(), OpNumber(4));
  const auto answer = state_from_replica_2(h, h.r(1).commit());
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->checkpoint.has_value());
  ASSERT_EQ(answer->log.end(), OpNumber(4));
  h.deliver(Sent{2, 1, *answer});
  // It takes the checkpoint (its op 4 is faulty) and keeps its ops 5 and 6.
  EXPECT_EQ(h.r(1).journal().checkpoint_op(), OpNumber(4));
  EXPECT_EQ(h.r(1).op(), OpNumber(6)) << "the entries it acknowledged stay";
  EXPECT_EQ(h.r(1).journal().log().checksum_at(OpNumber(6)),
            h.r(0).journal().log().checksum_at(OpNumber(6)));
}

// ---- Recovery ----

TEST(Recovery, ARecoveringReplicaNeitherAcknowledgesNorVotes) {
  Harness h(3);
  h.boot_all();
  h.node(2).wipe_and_boot(42);
  ASSERT_EQ(h.r(2).status(), Status::recovering);
  h.collect();
  h.in_flight().clear();
  h.request(0, 100, Request{SessionId(0), RequestNumber(1), {}});
  const auto prepare = h.sent<Prepare>().at(0).second;  // the one sent to 1 will do
  h.in_flight().clear();
  h.deliver(Sent{0, 2, prepare});
  h.deliver(Sent{1, 2, StartViewChange{ViewNumber(1), 1}});
  h.deliver(Sent{0, 2, DoViewChange{ViewNumber(2), ViewNumber(0), OpNumber(0), OpNumber(0),
                                    LogSuffix{OpNumber(0), root_checksum(kCluster), {}}, 0}});
  h.tick(2, 200);
  for (const Sent& s : h.in_flight()) {
    EXPECT_TRUE(std::holds_alternative<Recovery>(s.message))
        << "a recovering replica sent " << name_of(s.message);
  }
}

TEST(Recovery, OnlyNormalReplicasAnswerAndOnlyThePrimaryWithItsState) {
  Harness h(3);
  h.boot_all();
  register_some(h, 0, 2);
  h.node(2).wipe_and_boot(42);
  h.collect();
  h.run([](const Sent& s) { return std::holds_alternative<Recovery>(s.message) ||
                                   std::holds_alternative<RecoveryResponse>(s.message); });
  // Both answered (run delivered them); inspect by asking again by hand.
  h.deliver(Sent{2, 0, Recovery{42, 2}});
  h.deliver(Sent{2, 1, Recovery{42, 2}});
  h.collect();
  const auto responses = h.sent<RecoveryResponse>(2);
  ASSERT_EQ(responses.size(), 2u);
  for (const auto& [sent, r] : responses) {
    EXPECT_EQ(r.nonce, 42u);
    EXPECT_EQ(r.from_primary, sent.from == 0);
    EXPECT_EQ(r.op, sent.from == 0 ? h.r(0).op() : OpNumber(0));
  }
}

TEST(Recovery, ARecoveredReplicaAdoptsThePrimarysStateAndBecomesNormal) {
  Harness h(3);
  h.boot_all();
  register_some(h, 0, 3);
  h.node(2).wipe_and_boot(42);
  h.collect();
  h.run();
  EXPECT_EQ(h.r(2).status(), Status::normal);
  EXPECT_EQ(h.r(2).view(), ViewNumber(0));
  EXPECT_EQ(h.r(2).op(), h.r(0).op());
  EXPECT_TRUE(h.r(2).journal().superblock().trustworthy);
  EXPECT_EQ(h.r(2).client_table().digest(), h.r(0).client_table().digest());
}

TEST(Recovery, AResponseWithAnotherNonceDoesNotCount) {
  Harness h(3);
  h.boot_all();
  h.node(2).wipe_and_boot(42);
  h.in_flight().clear();
  h.deliver(Sent{0, 2, RecoveryResponse{ViewNumber(0), 41, true, OpNumber(0), OpNumber(0), 0}});
  h.deliver(Sent{1, 2, RecoveryResponse{ViewNumber(0), 41, false, OpNumber(0), OpNumber(0), 1}});
  h.collect();
  EXPECT_TRUE(h.sent<GetState>().empty());
  EXPECT_EQ(h.r(2).status(), Status::recovering);
}

TEST(Recovery, AReplicaRestartingWithItsStateRejoinsWithoutTheRecoveryProtocol) {
  Harness h(3);
  h.boot_all();
  register_some(h, 0, 3);
  h.node(1).crash();
  h.node(1).boot();
  EXPECT_EQ(h.r(1).status(), Status::normal);
  EXPECT_EQ(h.r(1).view(), ViewNumber(0));
  EXPECT_EQ(h.r(1).op(), OpNumber(3));
  h.collect();
  for (const Sent& s : h.in_flight()) EXPECT_FALSE(std::holds_alternative<Recovery>(s.message));
}

// ---- Durability and restart ----

TEST(Durability, ViewAndLastNormalViewArePersistedBeforeMessagesOfTheView) {
  Harness h(3);
  h.boot_all();
  tick_until_view_change(h, 1);
  // The StartViewChange is in the output; the journal already holds view 1.
  ASSERT_FALSE(h.sent<StartViewChange>().empty());
  EXPECT_EQ(h.r(1).journal().superblock().view, ViewNumber(1));
  h.run([](const Sent& s) { return s.from != 0 && s.to != 0; });
  ASSERT_EQ(h.r(1).status(), Status::normal);
  EXPECT_EQ(h.r(1).journal().superblock().last_normal_view, ViewNumber(1));
  // A restart keeps all of it.
  h.node(1).crash();
  h.node(1).boot();
  EXPECT_EQ(h.r(1).view(), ViewNumber(1));
  EXPECT_EQ(h.r(1).last_normal_view(), ViewNumber(1));
}

TEST(Durability, AFaultyEntryIsNeitherAcknowledgedNorVotedWithUntilRepaired) {
  Harness h(3);
  h.boot_all();
  register_some(h, 0, 3);
  h.tick(0, 5);
  h.run();
  // Flip a bit in the body of backup 1's entry 2, then restart it.
  Node& b = h.node(1);
  b.restart_with_faulty_entry(OpNumber(2));
  ASSERT_EQ(b.journal.log().faulty().size(), 1u);
  h.collect();
  h.in_flight().clear();
  // It does not vote in a view change ...
  h.deliver(Sent{2, 1, StartViewChange{ViewNumber(1), 2}});
  h.collect();
  EXPECT_TRUE(h.sent<DoViewChange>().empty());
  EXPECT_TRUE(h.sent<StartViewChange>(2).empty() || !b.journal.log().faulty().empty());
  h.in_flight().clear();
  // ... and asks its peers for the entry by op and checksum.
  h.tick(1, h.node(1).config.retry_ticks);
  const auto asks = h.sent<RequestEntry>();
  ASSERT_FALSE(asks.empty());
  EXPECT_EQ(asks[0].second.op, OpNumber(2));
  h.run();
  EXPECT_TRUE(b.journal.log().faulty().empty());
  EXPECT_TRUE(b.journal.log().entry(OpNumber(2)).has_value());
}

// ---- Checkpoints ----

TEST(Checkpoints, AreTakenEveryKOpsAndLetTheLogRingBeReused) {
  Harness h(3, [](ReplicaConfig& c) { c.checkpoint_interval = 4; });
  h.boot_all();
  register_some(h, 0, 30);
  h.tick(0, 5);
  h.run();
  for (ReplicaId id = 0; id < 3; ++id) {
    const OpNumber cp = h.r(id).journal().checkpoint_op();
    EXPECT_GE(cp.value(), 24u) << int(id);
    EXPECT_GE(h.r(id).commit().value() - cp.value(), 0u);
    EXPECT_LT(h.r(id).commit().value() - cp.value(), 4u) << int(id);
  }
  // A replica restarted from its checkpoint and log re-executes what it knew was
  // committed, learns the rest from the primary, and ends with the same state.
  h.node(1).crash();
  h.node(1).boot();
  EXPECT_GE(h.r(1).commit(), h.r(1).journal().checkpoint_op());
  h.tick(0, 5);
  h.run();
  EXPECT_EQ(h.r(1).commit(), h.r(0).commit());
  EXPECT_EQ(h.r(1).client_table().digest(), h.r(0).client_table().digest());
}

// ---- Client sessions ----

TEST(ClientSessions, RegistrationIsACommittedOpThatReturnsASessionId) {
  Harness h(3);
  h.boot_all();
  const SessionId a = h.register_session(0, 100, 1);
  const SessionId b = h.register_session(0, 101, 2);
  EXPECT_NE(a, b);
  EXPECT_EQ(h.r(0).commit(), OpNumber(2));
  EXPECT_EQ(h.r(0).client_table().size(), 2u);
}

TEST(ClientSessions, TheLeastRecentlyUsedSessionIsEvictedAndToldSo) {
  Harness h(3, [](ReplicaConfig& c) { c.client_table_capacity = 2; });
  h.boot_all();
  const SessionId a = h.register_session(0, 100, 1);
  const SessionId b = h.register_session(0, 101, 2);
  Bytes op;
  kv::encode(kv::Operation{kv::OpKind::put, "k", "v", {}}, op);
  h.request(0, 100, Request{a, RequestNumber(1), op});  // a is now more recent than b
  h.run();
  h.register_session(0, 102, 3);  // evicts b
  h.replies().clear();
  h.request(0, 101, Request{b, RequestNumber(1), op});
  ASSERT_EQ(h.replies().size(), 1u);
  EXPECT_EQ(h.replies()[0].reply.status, ReplyStatus::session_evicted);
  h.request(0, 100, Request{a, RequestNumber(2), op});
  h.run();
  EXPECT_EQ(h.replies().back().reply.status, ReplyStatus::ok);
}

}  // namespace
}  // namespace vsr::test
