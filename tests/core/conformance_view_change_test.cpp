// Conformance: "View change (VRR 4.2)" of docs/vr-rules.md.
#include <gtest/gtest.h>

#include "tests/core/harness.h"

namespace vsr::test {
namespace {

TEST(ViewChange, ABackupThatHearsNothingStartsAViewChangeAndPersistsTheViewFirst) {
  Harness h(3);
  h.boot_all();
  tick_until_view_change(h, 1);
  EXPECT_EQ(h.r(1).view(), ViewNumber(1));
  EXPECT_EQ(h.r(1).status(), Status::view_change);
  // The view is in the journal before the StartViewChange can be sent.
  EXPECT_EQ(h.r(1).journal().superblock().view, ViewNumber(1));
  const auto svc = h.sent<StartViewChange>();
  ASSERT_EQ(svc.size(), 2u);  // to both other replicas
  EXPECT_EQ(svc[0].second.view, ViewNumber(1));
}

TEST(ViewChange, NoPrepareOfTheOlderViewIsAcceptedOnceItStarts) {
  Harness h(3);
  h.boot_all();
  h.request(0, 100, Request{SessionId(0), RequestNumber(1), {}});
  const auto prepare = h.sent<Prepare>(1).at(0).second;
  h.in_flight().clear();
  tick_until_view_change(h, 1);
  h.in_flight().clear();
  h.deliver(Sent{0, 1, prepare});
  h.collect();
  EXPECT_EQ(h.r(1).op(), OpNumber(0));
  EXPECT_TRUE(h.sent<PrepareOk>().empty());
}

TEST(ViewChange, R5_DoViewChangeIsSentAfterStartViewChangeFromFOthers) {
  Harness h(5);  // f = 2
  h.boot_all();
  tick_until_view_change(h, 2);  // view 1: primary 1
  h.in_flight().clear();
  h.deliver(Sent{3, 2, StartViewChange{ViewNumber(1), 3}});
  h.collect();
  EXPECT_TRUE(h.sent<DoViewChange>().empty()) << "one StartViewChange is not f";
  h.deliver(Sent{3, 2, StartViewChange{ViewNumber(1), 3}});  // a duplicate does not count twice
  h.collect();
  EXPECT_TRUE(h.sent<DoViewChange>().empty());
  h.deliver(Sent{4, 2, StartViewChange{ViewNumber(1), 4}});
  h.collect();
  const auto dvc = h.sent<DoViewChange>(1);
  ASSERT_EQ(dvc.size(), 1u);
  EXPECT_EQ(dvc[0].second.view, ViewNumber(1));
  EXPECT_EQ(dvc[0].second.last_normal_view, ViewNumber(0));
}

TEST(ViewChange, LastNormalViewChangesOnlyWhenTheReplicaBecomesNormal) {
  Harness h(3);
  h.boot_all();
  tick_until_view_change(h, 2);
  EXPECT_EQ(h.r(2).view(), ViewNumber(1));
  EXPECT_EQ(h.r(2).last_normal_view(), ViewNumber(0));
  EXPECT_EQ(h.r(2).journal().superblock().last_normal_view, ViewNumber(0));
  h.run([](const Sent& s) { return s.from != 0 && s.to != 0; });  // replicas 1, 2 finish view 1
  EXPECT_EQ(h.r(1).status(), Status::normal);
  EXPECT_EQ(h.r(1).last_normal_view(), ViewNumber(1));  // as the new primary
  EXPECT_EQ(h.r(2).status(), Status::normal);
  EXPECT_EQ(h.r(2).last_normal_view(), ViewNumber(1));  // on accepting StartView
  EXPECT_EQ(h.r(2).journal().superblock().last_normal_view, ViewNumber(1));
}

// Five replicas; three take part in the view change to view 6 (primary 1).
// Replica 0 has the most entries but an older last_normal_view; replica 2 was
// normal in view 2. The new primary must take replica 2's log.
TEST(ViewChange, TheNewPrimaryTakesTheLogWithTheLargestLastNormalView) {
  Harness h(5);
  Node& a = h.node(0);
  Node& p = h.node(1);
  Node& b = h.node(2);
  const Entry first = a.seed_entry(ViewNumber(0));
  p.seed(ViewNumber(0), first.body);
  b.seed(ViewNumber(0), first.body);
  a.seed_entry(ViewNumber(1), 1);
  a.seed_entry(ViewNumber(1), 1);
  const Entry chosen = b.seed_entry(ViewNumber(2), 2);
  a.seed_view(ViewNumber(6), ViewNumber(1));
  p.seed_view(ViewNumber(6), ViewNumber(0));
  b.seed_view(ViewNumber(6), ViewNumber(2));
  h.boot_all();  // 0, 1, 2 restart in view 6 with status view-change
  const auto among_012 = [](const Sent& s) { return s.from <= 2 && s.to <= 2; };
  h.run(among_012);
  ASSERT_EQ(h.r(1).status(), Status::normal);
  EXPECT_EQ(h.r(1).view(), ViewNumber(6));
  EXPECT_EQ(h.r(1).op(), OpNumber(2));
  EXPECT_EQ(h.r(1).journal().log().checksum_at(OpNumber(2)), chosen.header.checksum);
  // Replica 0's longer but older suffix is replaced.
  EXPECT_EQ(h.r(0).op(), OpNumber(2));
  EXPECT_EQ(h.r(0).journal().log().checksum_at(OpNumber(2)), chosen.header.checksum);
}

TEST(ViewChange, TiesInLastNormalViewGoToTheLargestOp) {
  Harness h(3);
  const Entry first = h.node(0).seed_entry(ViewNumber(0));
  h.node(2).seed(ViewNumber(0), first.body);
  const Entry second = h.node(2).seed_entry(ViewNumber(0), 3);
  h.node(0).seed_view(ViewNumber(1), ViewNumber(0));
  h.node(1).seed_view(ViewNumber(1), ViewNumber(0));
  h.node(2).seed_view(ViewNumber(1), ViewNumber(0));
  h.boot_all();
  h.run([](const Sent& s) { return s.from != 0 && s.to != 0; });  // only 1 and 2 take part
  ASSERT_EQ(h.r(1).status(), Status::normal);
  EXPECT_EQ(h.r(1).op(), OpNumber(2));
  EXPECT_EQ(h.r(1).journal().log().checksum_at(OpNumber(2)), second.header.checksum);
}

TEST(ViewChange, TheNewPrimaryTakesTheLargestCommitNumber) {
  Harness h(3);
  h.boot_all();
  for (std::uint64_t nonce : {1, 2}) h.request(0, 100, Request{SessionId(0), RequestNumber(nonce), {}});
  h.run();
  ASSERT_EQ(h.r(0).commit(), OpNumber(2));
  // Only replica 2 hears the heartbeat that carries commit 2.
  h.tick(0, 5);
  h.run([](const Sent& s) { return s.to == 2; });
  ASSERT_EQ(h.r(2).commit(), OpNumber(2));
  ASSERT_LT(h.r(1).commit(), OpNumber(2));
  h.node(0).crash();
  tick_until_view_change(h, 1);
  // No PrepareOk may help: the commit number must come from the DoViewChange.
  h.run([](const Sent& s) {
    return s.to != 0 && !std::holds_alternative<PrepareOk>(s.message);
  });
  ASSERT_EQ(h.r(1).status(), Status::normal);
  EXPECT_EQ(h.r(1).commit(), OpNumber(2));
}

TEST(ViewChange, StartViewReplacesTheLogAndAcknowledgesTheUncommittedSuffix) {
  Harness h(3);
  h.node(2).seed_entry(ViewNumber(0), 9);  // an old uncommitted entry
  h.boot_all();
  h.in_flight().clear();
  StartView sv{ViewNumber(1), OpNumber(1), OpNumber(0), {}, 1};
  Node& p = h.node(1);
  p.crash();
  const Entry e = p.seed_entry(ViewNumber(1), 4);
  sv.log = LogSuffix{OpNumber(0), root_checksum(kCluster), {e}};
  h.deliver(Sent{1, 2, sv});
  h.collect();
  EXPECT_EQ(h.r(2).status(), Status::normal);
  EXPECT_EQ(h.r(2).view(), ViewNumber(1));
  EXPECT_EQ(h.r(2).last_normal_view(), ViewNumber(1));
  EXPECT_EQ(h.r(2).journal().log().checksum_at(OpNumber(1)), e.header.checksum);
  const auto acks = h.sent<PrepareOk>(1);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].second.op, OpNumber(1));
}

TEST(ViewChange, AStartViewForTheViewAlreadyNormalInIsIgnored) {
  Harness h(3);
  h.boot_all();
  tick_until_view_change(h, 2);
  h.run([](const Sent& s) { return s.from != 0 && s.to != 0; });
  ASSERT_EQ(h.r(2).status(), Status::normal);
  const std::uint64_t sequence = h.r(2).journal().superblock().sequence;
  h.deliver(Sent{1, 2, StartView{ViewNumber(1), OpNumber(0), OpNumber(0),
                                 LogSuffix{OpNumber(0), root_checksum(kCluster), {}}, 1}});
  h.collect();
  EXPECT_TRUE(h.sent<PrepareOk>().empty());
  EXPECT_EQ(h.r(2).journal().superblock().sequence, sequence) << "nothing was rewritten";
}

// R#9, R#10: whatever path brings a replica into a view, its timers and per-view
// tallies start afresh. Measured by how long a backup in the new view waits before
// it suspects the new primary: never less than the configured timeout.
TEST(ViewChange, R9_R10_PerViewStateIsResetOnEveryPathIntoAView) {
  const auto waits_a_full_timeout = [](Harness& h, ReplicaId id) {
    const ViewNumber view = h.r(id).view();
    const std::uint32_t base = h.node(id).config.view_change_timeout_ticks;
    for (std::uint32_t i = 0; i + 1 < base; ++i) h.tick(id);
    return h.r(id).view() == view;
  };
  {  // StartViewChange of a higher view
    Harness h(3);
    h.boot_all();
    h.tick(2, 25);
    h.deliver(Sent{1, 2, StartViewChange{ViewNumber(1), 1}});
    EXPECT_EQ(h.r(2).view(), ViewNumber(1));
    EXPECT_TRUE(waits_a_full_timeout(h, 2)) << "after StartViewChange";
  }
  {  // StartView
    Harness h(3);
    h.boot_all();
    h.tick(2, 25);
    h.deliver(Sent{1, 2, StartView{ViewNumber(1), OpNumber(0), OpNumber(0),
                                   LogSuffix{OpNumber(0), root_checksum(kCluster), {}}, 1}});
    EXPECT_EQ(h.r(2).status(), Status::normal);
    EXPECT_TRUE(waits_a_full_timeout(h, 2)) << "after StartView";
  }
  {  // Prepare of a newer view, then NewState
    Harness h(3);
    h.boot_all();
    h.tick(2, 25);
    h.deliver(Sent{1, 2, Commit{ViewNumber(1), OpNumber(0), 1}});
    EXPECT_EQ(h.r(2).status(), Status::state_transfer);
    EXPECT_TRUE(waits_a_full_timeout(h, 2)) << "after a message of a newer view";
    h.deliver(Sent{1, 2, NewState{ViewNumber(1), OpNumber(0), OpNumber(0), false, std::nullopt,
                                  LogSuffix{OpNumber(0), root_checksum(kCluster), {}}, 1}});
    EXPECT_EQ(h.r(2).status(), Status::normal);
    EXPECT_TRUE(waits_a_full_timeout(h, 2)) << "after NewState";
  }
  {  // PrepareOk tallies do not survive a view change (R#9)
    Harness h(3);
    h.boot_all();
    h.request(0, 100, Request{SessionId(0), RequestNumber(1), {}});
    h.in_flight().clear();
    const Checksum c = *h.r(0).journal().log().checksum_at(OpNumber(1));
    h.deliver(Sent{1, 0, StartViewChange{ViewNumber(3), 1}});  // primary(3) = 0
    h.deliver(Sent{2, 0, DoViewChange{ViewNumber(3), ViewNumber(0), OpNumber(0), OpNumber(0),
                                      LogSuffix{OpNumber(0), root_checksum(kCluster), {}}, 2}});
    ASSERT_EQ(h.r(0).status(), Status::normal);
    ASSERT_EQ(h.r(0).view(), ViewNumber(3));
    h.deliver(Sent{1, 0, PrepareOk{ViewNumber(0), OpNumber(1), c, 1}});  // from the old view
    EXPECT_EQ(h.r(0).commit(), OpNumber(0));
  }
}

}  // namespace
}  // namespace vsr::test
