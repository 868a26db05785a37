// A torn tail: after a power cut in sync mode batch, an entry that was never synced can
// come back faulty (its slot's page reached the disk, its body's did not). Nobody may
// hold it, so no repair can come: the replica drops it once every other replica has
// nacked it from a view after its last_normal_view (Replica::maybe_drop_torn_tail).
#include <gtest/gtest.h>

#include "tests/core/harness.h"

namespace vsr::test {
namespace {

// Ops 1..3 committed on all three; op 4 reached only the primary's log, and the primary
// restarted with it faulty. Nothing in flight.
void tear_the_primarys_tail(Harness& h) {
  h.boot_all();
  register_some(h, 0, 3);
  heartbeat(h, 0);
  h.request(0, 100, Request{SessionId(0), RequestNumber(9), {}});
  ASSERT_EQ(h.r(0).op(), OpNumber(4));
  h.in_flight().clear();  // no backup got the Prepare
  h.node(0).restart_with_faulty_entry(OpNumber(4));
  ASSERT_EQ(h.r(0).status(), Status::view_change);
  ASSERT_EQ(h.r(0).last_normal_view(), ViewNumber(0));
  h.in_flight().clear();
}

// Replicas 1 and 2 form view 1 without replica 0.
void view_change_without_0(Harness& h) {
  tick_until_view_change(h, 1);
  h.run([](const Sent& s) { return s.from != 0 && s.to != 0; });
  ASSERT_EQ(h.r(1).status(), Status::normal);
  ASSERT_EQ(h.r(1).view(), ViewNumber(1));
}

// Replica 0 asks for its faulty entries; returns the requests, not yet delivered.
std::vector<Sent> ask(Harness& h) {
  h.in_flight().clear();
  h.tick(0, h.node(0).config.retry_ticks);
  std::vector<Sent> asks;
  for (const auto& [sent, request] : h.sent<RequestEntry>())
    asks.push_back(sent);
  h.in_flight().clear();
  return asks;
}

// Delivers `request` and hands its answer, if any, back to replica 0. Returns the
// answer (nullopt if none was an EntryNack).
std::optional<Sent> answer(Harness& h, const Sent& request) {
  h.deliver(request);
  h.collect();
  const auto nacks = h.sent<EntryNack>(0);
  h.in_flight().clear();
  if (nacks.size() != 1) return std::nullopt;
  h.deliver(nacks[0].first);
  h.collect();
  return nacks[0].first;
}

TEST(TornTail, NacksFromTheReplicasLastNormalViewDoNotCount) {
  Harness h(3);
  tear_the_primarys_tail(h);
  // Both backups are still normal in view 0: for all replica 0 knows, they might yet
  // acknowledge op 4 in that view, so their nacks cannot clear it.
  for (const Sent& request : ask(h))
    ASSERT_TRUE(answer(h, request).has_value());
  EXPECT_EQ(h.r(0).journal().log().faulty().size(), 1u);
  EXPECT_EQ(h.r(0).op(), OpNumber(4));
  EXPECT_TRUE(h.sent<DoViewChange>().empty());
}

TEST(TornTail, IsDroppedOnceEveryOtherReplicaNacksFromALaterView) {
  Harness h(3);
  tear_the_primarys_tail(h);
  view_change_without_0(h);
  const std::vector<Sent> asks = ask(h);
  ASSERT_EQ(asks.size(), 2u);
  ASSERT_TRUE(answer(h, asks[0]).has_value());
  EXPECT_EQ(h.r(0).op(), OpNumber(4)) << "one nack of two is not enough";
  ASSERT_TRUE(answer(h, asks[1]).has_value());
  EXPECT_TRUE(h.r(0).journal().log().faulty().empty());
  EXPECT_EQ(h.r(0).op(), OpNumber(3));
  // It rejoins in view 1 and the cluster goes on with op 4 from view 1's primary.
  h.in_flight().clear();
  heartbeat(h, 1);
  h.request(1, 100, Request{SessionId(0), RequestNumber(10), {}});
  h.run();
  heartbeat(h, 1);
  EXPECT_EQ(h.r(0).status(), Status::normal);
  EXPECT_EQ(h.r(0).view(), ViewNumber(1));
  EXPECT_EQ(h.r(0).commit(), h.r(1).commit());
  EXPECT_EQ(h.r(0).journal().log().checksum_at(OpNumber(4)),
            h.r(1).journal().log().checksum_at(OpNumber(4)));
}

TEST(TornTail, ARecoveringReplicaDoesNotNack) {
  Harness h(3);
  tear_the_primarys_tail(h);
  view_change_without_0(h);
  // Replica 2 loses its state. It may have lost entries it acknowledged with no fault at
  // all (a power cut's hole in its log, a crash in the middle of an install), so its
  // silence cannot stand for a nack: replica 0 keeps waiting.
  h.node(2).wipe_and_boot(7);
  ASSERT_EQ(h.r(2).status(), Status::recovering);
  for (const Sent& request : ask(h)) {
    const auto nack = answer(h, request);
    EXPECT_EQ(nack.has_value(), request.to == 1) << "to " << int(request.to);
  }
  EXPECT_EQ(h.r(0).journal().log().faulty().size(), 1u);
  EXPECT_EQ(h.r(0).op(), OpNumber(4));
}

TEST(TornTail, ACommittedEntryIsNeverDropped) {
  Harness h(3);
  h.boot_all();
  register_some(h, 0, 3);
  heartbeat(h, 0);
  view_change_without_0(h);  // persists commit 3 in replica 1's superblock
  h.in_flight().clear();
  h.node(1).restart_with_faulty_entry(OpNumber(2));
  ASSERT_GE(h.r(1).journal().superblock().commit, OpNumber(2));
  // Nacks as if nobody held it, from a later view: op 2 is committed, so only a
  // repair will do.
  const Checksum checksum = h.r(1).journal().log().faulty().at(OpNumber(2)).checksum;
  for (ReplicaId from : {ReplicaId(0), ReplicaId(2)}) {
    h.deliver(Sent{from, 1, EntryNack{OpNumber(2), checksum, ViewNumber(9), from}});
  }
  h.collect();
  EXPECT_EQ(h.r(1).journal().log().faulty().size(), 1u);
  EXPECT_EQ(h.r(1).op(), OpNumber(3));
}

TEST(TornTail, AOneReplicaClusterDropsItAlone) {
  // The primary's vote counts once its log is reported durable, as in sync mode batch.
  Harness h(1, [](ReplicaConfig& c) { c.self_durability_reported = true; });
  h.boot_all();
  for (std::uint64_t nonce = 1; nonce <= 3; ++nonce) {
    h.request(0, 100, Request{SessionId(0), RequestNumber(nonce), {}});
    if (nonce < 3) h.r(0).on_durable(h.r(0).op(), h.r(0).journal().rewrites());
    h.collect();
  }
  ASSERT_EQ(h.r(0).commit(), OpNumber(2));
  ASSERT_EQ(h.r(0).op(), OpNumber(3));  // never synced: the power cut tears it
  h.node(0).restart_with_faulty_entry(OpNumber(3));
  ASSERT_NE(h.r(0).status(), Status::normal);
  h.tick(0, h.node(0).config.retry_ticks + h.node(0).config.view_change_timeout_ticks * 2);
  h.collect();
  EXPECT_TRUE(h.r(0).journal().log().faulty().empty());
  EXPECT_EQ(h.r(0).op(), OpNumber(2));
  EXPECT_EQ(h.r(0).status(), Status::normal);
  // And it serves again.
  h.request(0, 100, Request{SessionId(0), RequestNumber(4), {}});
  h.r(0).on_durable(h.r(0).op(), h.r(0).journal().rewrites());
  h.collect();
  EXPECT_EQ(h.r(0).commit(), OpNumber(3));
}

TEST(TornTail, APrimaryWhoseLogIsSyncedInTheBackgroundNeverLeadsItsViewAgain) {
  // Its backups may have committed entries it never synced: a power cut took them from
  // its log (and tore the one before). Waiting in its view for the repair, a duplicate
  // DoViewChange of that view would make it the view's primary again with that short
  // log. (Such a primary restarts into a view change, even the first time: view 1.)
  Harness h(3, [](ReplicaConfig& c) { c.self_durability_reported = true; });
  h.boot_all();
  h.run();
  ASSERT_EQ(h.r(1).status(), Status::normal);
  ASSERT_TRUE(h.r(1).is_primary());
  register_some(h, 1, 3);
  ASSERT_EQ(h.r(1).op(), OpNumber(3));
  h.node(1).restart_with_faulty_entry(OpNumber(3));
  EXPECT_EQ(h.r(1).view(), ViewNumber(2));
  EXPECT_EQ(h.r(1).status(), Status::view_change);
  h.in_flight().clear();
  h.deliver(Sent{
      0, 1, DoViewChange{ViewNumber(1), ViewNumber(0), OpNumber(0), OpNumber(0), LogSuffix{}, 0}});
  h.collect();
  EXPECT_NE(h.r(1).status(), Status::normal);
}

TEST(TornTail, ANormalReplicaWithAFaultyEntryDoesNotServeItsState) {
  Harness h(3);
  h.boot_all();
  register_some(h, 0, 6);
  heartbeat(h, 0);
  // Replica 2 restarts with op 2 faulty; view 1's StartView (its log from the commit
  // number on) makes it normal with the faulty entry below.
  h.node(2).restart_with_faulty_entry(OpNumber(2));
  h.in_flight().clear();
  tick_until_view_change(h, 1);
  h.run();
  ASSERT_EQ(h.r(2).status(), Status::normal);
  ASSERT_EQ(h.r(2).view(), ViewNumber(1));
  ASSERT_EQ(h.r(2).journal().log().faulty().count(OpNumber(2)), 1u);
  // Its log from op 0 would stop before op 2 while claiming op 6: no answer.
  h.in_flight().clear();
  h.deliver(Sent{0, 2, GetState{ViewNumber(1), OpNumber(0), false, 0}});
  h.collect();
  EXPECT_TRUE(h.sent<NewState>().empty());
}

// ---- A replica with faulty entries in a view change ----

// Ticks replicas 0 and 2, with replica 1 down, until replica 0 leads a view.
void view_change_of_0_and_2(Harness& h) {
  const auto keep = [](const Sent& s) { return s.from != 1 && s.to != 1; };
  for (int i = 0; i < 5000 && !(h.r(0).status() == Status::normal && h.r(0).is_primary()); ++i) {
    h.tick(0);
    h.tick(2);
    h.run(keep);
  }
}

TEST(TornTail, AReplicaWithAFaultyEntryStillTakesPartInAViewChangeWithoutItsLog) {
  Harness h(3, [](ReplicaConfig& c) { c.checkpoint_interval = 4; });
  h.boot_all();
  register_some(h, 0, 3);
  heartbeat(h, 0);
  // Replica 2 restarts with op 3 faulty, last normal in view 0. Replicas 0 and 1 go on
  // without it, checkpoint past op 3 and move on to view 1; then replica 1 goes down
  // and replica 0 restarts: nobody can repair op 3 any more.
  h.node(2).restart_with_faulty_entry(OpNumber(3));
  h.in_flight().clear();
  const auto without_2 = [](const Sent& s) { return s.from != 2 && s.to != 2; };
  for (std::uint64_t nonce = 4; nonce <= 6; ++nonce) {
    h.request(0, 100, Request{SessionId(0), RequestNumber(nonce), {}});
    h.run(without_2);
  }
  h.tick(0, h.node(0).config.heartbeat_ticks);
  h.run(without_2);
  tick_until_view_change(h, 1);
  h.run(without_2);
  ASSERT_EQ(h.r(0).last_normal_view(), ViewNumber(1));
  h.node(1).crash();
  h.node(0).crash();
  h.node(0).boot();
  ASSERT_GT(h.r(0).journal().log().first(), OpNumber(3));
  h.in_flight().clear();
  // Replica 2 cannot vouch for its log, but it was last normal in view 0, before the
  // view of replica 0's log: with its DoViewChange, replica 0 has a quorum.
  view_change_of_0_and_2(h);
  ASSERT_EQ(h.r(0).status(), Status::normal);
  ASSERT_TRUE(h.r(0).is_primary());
  EXPECT_EQ(h.r(0).op(), OpNumber(6));
  // Replica 2 takes the new view's state, and with it loses its faulty entry.
  for (int i = 0; i < 200 && h.r(2).status() != Status::normal; ++i) {
    h.tick(0);
    h.tick(2);
    h.run([](const Sent& s) { return s.from != 1 && s.to != 1; });
  }
  EXPECT_EQ(h.r(2).status(), Status::normal);
  EXPECT_TRUE(h.r(2).journal().log().faulty().empty());
  EXPECT_EQ(h.r(2).op(), h.r(0).op());
}

TEST(TornTail, ADoViewChangeWithoutItsLogFromTheChosenLogsViewDoesNotCount) {
  Harness h(3);
  h.boot_all();
  register_some(h, 0, 3);
  // Replica 1, primary of view 1, has its own DoViewChange (last normal view 0).
  h.deliver(Sent{0, 1, StartViewChange{ViewNumber(1), 0}});
  h.collect();
  ASSERT_EQ(h.r(1).status(), Status::view_change);
  h.in_flight().clear();
  // One from replica 2 without its log, also last normal in view 0: replica 2 may
  // hold entries of view 0 that were committed, so it cannot complete the quorum.
  const auto from_2 = [](bool whole) {
    return Sent{2, 1,
                DoViewChange{ViewNumber(1), ViewNumber(0), OpNumber(0), OpNumber(0), LogSuffix{}, 2,
                             whole}};
  };
  h.deliver(from_2(false));
  h.collect();
  EXPECT_EQ(h.r(1).status(), Status::view_change);
  // The same replica whole, later: now it counts.
  h.deliver(from_2(true));
  h.collect();
  EXPECT_EQ(h.r(1).status(), Status::normal);
}

}  // namespace
}  // namespace vsr::test
