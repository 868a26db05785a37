// Where the primary sends a new Prepare (ReplicaConfig::prepare_fanout): with
// quorum_first, to the backups whose acks complete the quorum, and to the others once
// it commits, at the next tick, or when a hint says a team member died.
#include <gtest/gtest.h>

#include "tests/core/harness.h"

namespace vsr::test {
namespace {

Request put_request(SessionId s, std::uint64_t n, const std::string& value) {
  return Request{s, RequestNumber(n), put_operation("k", value)};
}

// Replicas the Prepares of `op` in flight go to, in order.
std::vector<ReplicaId> prepare_targets(Harness& h, OpNumber op) {
  std::vector<ReplicaId> to;
  for (const auto& [sent, m] : h.sent<Prepare>()) {
    if (m.entry.header.op == op) to.push_back(sent.to);
  }
  return to;
}

bool not_to(const Sent& s, ReplicaId r) {
  return s.to != r && s.from != r;
}

// Boots h, registers a session and sends one put on it: its Prepare in flight.
SessionId boot_and_put(Harness& h) {
  h.boot_all();
  const SessionId s = h.register_session(0, 100, 7);
  h.request(0, 100, put_request(s, 1, "a"));
  return s;
}

// Boots h, registers two sessions and sends one put on each: two Prepares in flight
// (h needs pipeline_max >= 2). Returns the op of the second.
OpNumber two_prepares_in_flight(Harness& h) {
  h.boot_all();
  const SessionId s1 = h.register_session(0, 100, 7);
  const SessionId s2 = h.register_session(0, 101, 8);
  h.request(0, 100, put_request(s1, 1, "a"));
  h.request(0, 101, put_request(s2, 1, "b"));
  return h.r(0).op();
}

TEST(PrepareFanout, QuorumFirstSendsANewPrepareToTheBackupsTheQuorumNeeds) {
  for (const std::uint32_t n : {3u, 5u, 7u}) {
    Harness h(n);
    h.boot_all();
    const SessionId s = h.register_session(0, 100, 7);
    h.request(0, 100, put_request(s, 1, "a"));
    const auto to = prepare_targets(h, h.r(0).op());
    EXPECT_EQ(to.size(), h.r(0).config().f()) << n << " replicas";
  }
}

TEST(PrepareFanout, TheOtherBackupGetsItWithItsCommitOnceTheQuorumAcked) {
  Harness h(3);
  boot_and_put(h);
  const OpNumber op = h.r(0).op();
  ASSERT_EQ(prepare_targets(h, op), std::vector<ReplicaId>{1});
  // Replica 1 acknowledges; the primary commits, replies, and only now sends replica
  // 2 the Prepare, carrying the new commit number.
  h.run([](const Sent& s) { return !std::holds_alternative<Prepare>(s.message) || s.to == 1; });
  ASSERT_EQ(h.r(0).commit(), op);
  h.in_flight().clear();
  h.r(0).tick();  // nothing held back any more: the tick sends no Prepare
  h.collect();
  EXPECT_TRUE(prepare_targets(h, op).empty());

  Harness g(3);
  g.boot_all();
  const SessionId t = g.register_session(0, 100, 7);
  g.request(0, 100, put_request(t, 1, "a"));
  g.deliver(g.in_flight().at(0));  // the Prepare to 1
  g.in_flight().erase(g.in_flight().begin());
  g.collect();
  ASSERT_EQ(g.sent<PrepareOk>().size(), 1u);
  g.deliver(g.sent<PrepareOk>().at(0).first);
  g.in_flight().clear();
  g.collect();
  const auto late = g.sent<Prepare>(2);
  ASSERT_EQ(late.size(), 1u) << "held back until the commit";
  EXPECT_EQ(late[0].second.entry.header.op, op);
  EXPECT_EQ(late[0].second.commit, op);
  g.run();
  EXPECT_EQ(g.r(2).op(), op);
  EXPECT_EQ(g.r(2).commit(), op) << "learned from the Prepare, no heartbeat needed";
}

TEST(PrepareFanout, ATeamMemberThatGoesQuietStallsTheCommitForTwoTicksAtMost) {
  Harness h(3);
  const SessionId s = boot_and_put(h);
  const OpNumber op = h.r(0).op();
  h.run([](const Sent& m) { return not_to(m, 1); });  // replica 1 hears nothing
  EXPECT_LT(h.r(0).commit(), op);
  h.tick(0);  // the commit moved during the last tick interval (the registration)
  EXPECT_TRUE(prepare_targets(h, op).empty());
  h.tick(0);  // it stood still for a whole one: replica 2 gets what was held back
  EXPECT_EQ(prepare_targets(h, op), std::vector<ReplicaId>{2});
  h.run([](const Sent& m) { return not_to(m, 1); });
  EXPECT_EQ(h.r(0).commit(), op);
  // Replica 2 acknowledged furthest: the next Prepare goes to it, at once.
  h.request(0, 100, put_request(s, 2, "b"));
  EXPECT_EQ(prepare_targets(h, h.r(0).op()), std::vector<ReplicaId>{2});
}

TEST(PrepareFanout, OnATieTheTeamStaysWhereItIs) {
  Harness h(3);
  h.boot_all();
  const SessionId s = h.register_session(0, 100, 7);
  // Replica 1, the team, is slow: what goes to it waits.
  std::vector<Sent> stash;
  auto hold_replica_1 = [&](const Sent& m) {
    if (m.to == 1) stash.push_back(m);
    return m.to != 1;
  };
  h.request(0, 100, put_request(s, 1, "a"));
  h.run(hold_replica_1);
  h.tick(0, 2);  // the commit stood still: replica 2 gets it, acks, and it commits
  h.run(hold_replica_1);
  h.request(0, 100, put_request(s, 2, "b"));  // replica 2 acked furthest: the team
  EXPECT_EQ(prepare_targets(h, h.r(0).op()), std::vector<ReplicaId>{2});
  h.run(hold_replica_1);
  // Replica 1 catches up and acks as far as replica 2: a tie, and the team stays
  // (replica 1 would be napping on held-back Prepares by now).
  for (const Sent& m : stash)
    h.in_flight().push_back(m);
  h.run();
  ASSERT_EQ(h.r(1).op(), h.r(0).op());
  h.request(0, 100, put_request(s, 3, "c"));
  EXPECT_EQ(prepare_targets(h, h.r(0).op()), std::vector<ReplicaId>{2});
}

TEST(PrepareFanout, ABackupThatTakesSeveralPreparesInOneStepAcksOnce) {
  Harness h(3, [](ReplicaConfig& c) { c.pipeline_max = 4; });
  const OpNumber op = two_prepares_in_flight(h);
  const auto prepares = h.sent<Prepare>(1);
  ASSERT_EQ(prepares.size(), 2u);
  h.in_flight().clear();
  for (const auto& [sent, m] : prepares)
    h.r(1).step(m);  // one step of the driver
  h.collect();
  const auto acks = h.sent<PrepareOk>(0);
  ASSERT_EQ(acks.size(), 1u) << "the ack of the higher op covers the lower (R#7)";
  EXPECT_EQ(acks[0].second.op, op);
  h.run();
  EXPECT_EQ(h.r(0).commit(), op);
}

TEST(PrepareFanout, AHintThatATeamMemberDiedSendsWhatWasHeldBackInOrder) {
  Harness h(3, [](ReplicaConfig& c) { c.pipeline_max = 4; });
  const OpNumber op = two_prepares_in_flight(h);
  ASSERT_EQ(h.sent<Prepare>(2).size(), 0u);
  h.in_flight().clear();  // replica 1 died with them
  h.r(0).hint_replica_down(1);
  h.collect();
  const auto to2 = h.sent<Prepare>(2);
  ASSERT_EQ(to2.size(), 2u);
  EXPECT_EQ(to2[0].second.entry.header.op, op.prev());
  EXPECT_EQ(to2[1].second.entry.header.op, op);
  h.run([](const Sent& m) { return not_to(m, 1); });
  EXPECT_EQ(h.r(0).commit(), op);
}

TEST(PrepareFanout, APrimaryWhoseCopyCountsOnlyOnceSyncedSendsToEveryBackupItNeeds) {
  for (const std::uint32_t n : {3u, 5u}) {
    Harness h(n, [](ReplicaConfig& c) { c.self_durability_reported = true; });
    h.boot_all();
    h.run();  // such a primary does not resume its view at boot: view 1 forms
    const ReplicaId p = h.r(0).primary_of(h.r(0).view());
    ASSERT_EQ(h.r(p).status(), Status::normal);
    h.request(p, 100, Request{SessionId(0), RequestNumber(7), {}});
    // f + 1 backups: the quorum without the primary's unsynced copy.
    EXPECT_EQ(prepare_targets(h, h.r(p).op()).size(), h.r(p).config().quorum()) << n;
  }
}

TEST(PrepareFanout, ABigBatchGoesToEveryBackupAtOnce) {
  Harness h(3, [](ReplicaConfig& c) { c.quorum_first_requests_max = 2; });
  h.boot_all();
  register_some(h, 0, 3);
  for (std::uint64_t nonce = 10; nonce < 13; ++nonce)  // three requests, one batch
    h.r(0).on_request(100 + nonce, Request{SessionId(0), RequestNumber(nonce), {}});
  h.r(0).flush();
  h.collect();
  EXPECT_EQ(prepare_targets(h, h.r(0).op()), (std::vector<ReplicaId>{1, 2}));
  h.request(0, 200, Request{SessionId(0), RequestNumber(20), {}});  // one: light again
  EXPECT_EQ(prepare_targets(h, h.r(0).op()), std::vector<ReplicaId>{1});
}

TEST(PrepareFanout, AllSendsEveryBackupEveryPrepareAtOnce) {
  Harness h(5, [](ReplicaConfig& c) { c.prepare_fanout = ReplicaConfig::PrepareFanout::all; });
  h.boot_all();
  h.request(0, 100, Request{SessionId(0), RequestNumber(7), {}});
  EXPECT_EQ(prepare_targets(h, h.r(0).op()), (std::vector<ReplicaId>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace vsr::test
