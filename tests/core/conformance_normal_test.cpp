// Conformance: "Cluster and quorums" and "Normal operation (VRR 4.1)" of
// docs/vr-rules.md, one scripted scenario per rule; R#n names the review finding.
#include <gtest/gtest.h>

#include <functional>
#include <span>

#include "replica/core/kv_operation.h"
#include "tests/core/harness.h"

namespace vsr::test {
namespace {

Request put_request(SessionId session, std::uint64_t number, const std::string& key,
                    const std::string& value) {
  return Request{session, RequestNumber(number), put_operation(key, value)};
}

std::size_t replies_to(Harness& h, ClientId client, std::uint64_t request,
                       ReplyStatus status = ReplyStatus::ok) {
  std::size_t n = 0;
  for (const ClientReply& r : h.replies()) {
    n += r.client == client && r.reply.request.value() == request && r.reply.status == status;
  }
  return n;
}

// ---- Cluster and quorums ----

TEST(ClusterAndQuorums, R2_PrimaryIsViewModNOverStableIds) {
  for (std::uint32_t n : {1u, 3u, 5u, 7u}) {
    Harness h(n);
    h.boot_all();
    for (std::uint64_t v = 0; v < 3 * n; ++v) {
      for (ReplicaId id = 0; id < n; ++id) {
        EXPECT_EQ(h.r(id).primary_of(ViewNumber(v)), v % n) << "replica " << int(id) << " view " << v;
      }
    }
  }
}

TEST(ClusterAndQuorums, R3_CommitNeedsFPlusOneOfTheConfiguredN) {
  // Five replicas (f = 2). Only replica 1 hears from the primary: however few
  // replicas are "connected", one backup is not a quorum of five.
  Harness h(5);
  h.boot_all();
  h.request(0, 100, Request{SessionId(0), RequestNumber(9), {}});
  h.run([](const Sent& s) { return s.to == 1 || s.from == 1; });
  EXPECT_EQ(h.r(0).op(), OpNumber(1));
  EXPECT_EQ(h.r(0).commit(), OpNumber(0));
  // The primary resends; now replica 2 acknowledges too: f+1 = 3 hold the entry.
  h.tick(0, h.node(0).config.prepare_retry_ticks);
  h.run([](const Sent& s) { return s.to == 2 || s.from == 2; });
  EXPECT_EQ(h.r(0).commit(), OpNumber(1));
}

TEST(ClusterAndQuorums, MessagesOfAnOlderViewAreDropped) {
  Harness h(3);
  for (ReplicaId id = 0; id < 3; ++id) h.node(id).seed_view(ViewNumber(3), ViewNumber(3));
  h.boot_all();
  // A stale primary of view 0 prepares op 1.
  Entry e;
  e.header.cluster = kCluster;
  e.header.view = ViewNumber(0);
  e.header.op = OpNumber(1);
  e.header.parent = root_checksum(kCluster);
  e.body = batch_of(SessionId(0), RequestNumber(5), {});
  e.header.seal(e.body);
  h.deliver(Sent{0, 1, Prepare{ViewNumber(0), OpNumber(0), e, 0}});
  h.collect();
  EXPECT_EQ(h.r(1).op(), OpNumber(0));
  EXPECT_TRUE(h.sent<PrepareOk>().empty());
}

TEST(ClusterAndQuorums, AHigherViewIsEnteredBeforeAnythingInItIsActedOn) {
  Harness h(3);
  h.boot_all();
  Entry e;
  e.header.cluster = kCluster;
  e.header.view = ViewNumber(3);
  e.header.op = OpNumber(1);
  e.header.parent = root_checksum(kCluster);
  e.body = batch_of(SessionId(0), RequestNumber(5), {});
  e.header.seal(e.body);
  h.deliver(Sent{0, 1, Prepare{ViewNumber(3), OpNumber(0), e, 0}});  // primary(3) = 0
  h.collect();
  EXPECT_EQ(h.r(1).view(), ViewNumber(3));
  EXPECT_EQ(h.r(1).status(), Status::state_transfer);
  EXPECT_EQ(h.r(1).op(), OpNumber(0));  // not appended
  EXPECT_TRUE(h.sent<PrepareOk>().empty());
  const auto asks = h.sent<GetState>(0);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].second.view, ViewNumber(3));
}

// ---- Normal operation ----

TEST(NormalOperation, OnlyThePrimaryAcceptsRequestsBackupsRedirect) {
  Harness h(3);
  h.boot_all();
  h.request(2, 100, Request{SessionId(0), RequestNumber(7), {}});
  ASSERT_EQ(h.replies().size(), 1u);
  EXPECT_EQ(h.replies()[0].reply.status, ReplyStatus::not_primary);
  EXPECT_EQ(h.replies()[0].reply.view, ViewNumber(0));
  EXPECT_EQ(h.r(2).op(), OpNumber(0));
  EXPECT_TRUE(h.in_flight().empty());
}

TEST(NormalOperation, ClientTableDropsARequestOlderThanTheLatest) {
  Harness h(3);
  h.boot_all();
  const SessionId s = h.register_session(0, 100, 7);
  h.request(0, 100, put_request(s, 2, "k", "a"));
  h.run();
  const OpNumber op = h.r(0).op();
  h.replies().clear();
  h.request(0, 100, put_request(s, 1, "k", "old"));
  h.run();
  EXPECT_TRUE(h.replies().empty());
  EXPECT_EQ(h.r(0).op(), op);
}

TEST(NormalOperation, ClientTableResendsTheCachedReplyForAnExecutedRequest) {
  Harness h(3);
  h.boot_all();
  const SessionId s = h.register_session(0, 100, 7);
  h.request(0, 100, put_request(s, 1, "k", "a"));
  h.run();
  ASSERT_EQ(replies_to(h, 100, 1), 1u);
  const OpNumber op = h.r(0).op();
  const Bytes first = h.replies().back().reply.result;
  h.request(0, 101, put_request(s, 1, "k", "a"));  // a retry, perhaps from a new slot
  h.run();
  EXPECT_EQ(h.r(0).op(), op) << "a retry after commit must not be ordered again";
  ASSERT_EQ(replies_to(h, 101, 1), 1u);
  EXPECT_EQ(h.replies().back().reply.result, first);
}

TEST(NormalOperation, R8_ARetryWhileInFlightGetsTheReplyWhenItCommits) {
  Harness h(3);
  h.boot_all();
  const SessionId s = h.register_session(0, 100, 7);
  h.request(0, 100, put_request(s, 1, "k", "a"));
  const OpNumber op = h.r(0).op();
  // Before the Prepare is acknowledged, the client retries (e.g. from another slot).
  h.request(0, 101, put_request(s, 1, "k", "a"));
  EXPECT_EQ(h.r(0).op(), op) << "not ordered twice";
  EXPECT_EQ(h.r(0).queued_requests(), 0u);
  h.run();
  EXPECT_EQ(replies_to(h, 101, 1), 1u) << "the retrying client starves (R#8)";
  EXPECT_EQ(h.r(0).commit(), op);
}

TEST(NormalOperation, ClientTableOrdersANewerRequestAsANewOp) {
  Harness h(3);
  h.boot_all();
  const SessionId s = h.register_session(0, 100, 7);
  const OpNumber before = h.r(0).op();
  h.request(0, 100, put_request(s, 1, "k", "a"));
  EXPECT_EQ(h.r(0).op(), before.next());
  const auto prepares = h.sent<Prepare>();
  ASSERT_EQ(prepares.size(), 1u);  // to the quorum's backup first (fanout_test.cpp)
  EXPECT_EQ(prepares[0].second.entry.header.op, before.next());
}

TEST(NormalOperation, ThePrimaryChainsEachEntryOnItsPredecessorsChecksum) {
  Harness h(3);
  h.boot_all();
  const SessionId s = h.register_session(0, 100, 7);
  const Checksum parent = *h.r(0).journal().log().checksum_at(h.r(0).op());
  h.request(0, 100, put_request(s, 1, "k", "a"));
  const auto prepares = h.sent<Prepare>();
  ASSERT_FALSE(prepares.empty());
  EXPECT_EQ(prepares[0].second.entry.header.parent, parent);
  EXPECT_TRUE(prepares[0].second.entry.header.header_valid());
}

TEST(NormalOperation, ABackupAppendsAChainedEntryThenAcknowledgesIt) {
  Harness h(3);
  h.boot_all();
  h.request(0, 100, Request{SessionId(0), RequestNumber(7), {}});
  const auto prepare = h.sent<Prepare>(1).at(0).second;
  h.in_flight().clear();
  h.deliver(Sent{0, 1, prepare});
  EXPECT_EQ(h.r(1).op(), OpNumber(1));
  // The entry is in the journal before the PrepareOk leaves (the driver sends only
  // after syncing the journal).
  EXPECT_EQ(h.r(1).journal().log().checksum_at(OpNumber(1)), prepare.entry.header.checksum);
  h.collect();
  const auto acks = h.sent<PrepareOk>(0);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].second.op, OpNumber(1));
  EXPECT_EQ(acks[0].second.checksum, prepare.entry.header.checksum);
}

// A backup that holds a different entry at op n (left from an older primary) gets
// the Prepare for n again.
TEST(NormalOperation, R1_ABackupAcknowledgesOnlyAnEntryItHoldsIdentically) {
  Harness h(3);
  h.node(0).seed_entry(ViewNumber(0), /*salt=*/0);
  h.node(1).seed_entry(ViewNumber(0), /*salt=*/7);  // different content at op 1
  h.boot_all();
  h.tick(0, 10);  // the primary resends its unacknowledged Prepare for op 1
  const auto prepare = h.sent<Prepare>(1).at(0).second;
  h.in_flight().clear();
  h.deliver(Sent{0, 1, prepare});
  h.collect();
  for (const auto& [sent, ack] : h.sent<PrepareOk>()) {
    EXPECT_EQ(ack.checksum, prepare.entry.header.checksum) << "acked a conflicting entry (R#1)";
  }
  // It acknowledged only after holding the primary's entry (R#4: the uncommitted
  // suffix is replaced by the primary's).
  EXPECT_EQ(h.r(1).journal().log().checksum_at(OpNumber(1)), prepare.entry.header.checksum);
}

TEST(NormalOperation, R4_AConflictThatDoesNotChainLeadsToStateTransfer) {
  Harness h(3);
  h.node(0).seed_entry(ViewNumber(0), 0);
  h.node(0).seed_entry(ViewNumber(0), 0);
  h.node(1).seed_entry(ViewNumber(0), 7);
  h.node(1).seed_entry(ViewNumber(0), 7);
  h.boot_all();
  h.tick(0, 10);
  // Op 2's parent is the primary's op 1, which backup 1 does not hold.
  Prepare op2;
  for (const auto& [sent, p] : h.sent<Prepare>(1)) {
    if (p.entry.header.op == OpNumber(2)) op2 = p;
  }
  ASSERT_EQ(op2.entry.header.op, OpNumber(2));
  h.in_flight().clear();
  h.deliver(Sent{0, 1, op2});
  h.collect();
  EXPECT_TRUE(h.sent<PrepareOk>().empty());
  EXPECT_EQ(h.sent<GetState>(0).size(), 1u);
}

TEST(NormalOperation, R4_AGapWaitsBrieflyThenAsksForState) {
  Harness h(3);
  h.boot_all();
  for (std::uint64_t nonce : {1, 2, 3}) h.request(0, 100, Request{SessionId(0), RequestNumber(nonce), {}});
  std::vector<Prepare> to_backup;
  for (const auto& [sent, p] : h.sent<Prepare>(1)) to_backup.push_back(p);
  ASSERT_EQ(to_backup.size(), 3u);
  h.in_flight().clear();
  // Op 3 then op 2 arrive; op 1 is late.
  h.deliver(Sent{0, 1, to_backup[2]});
  h.deliver(Sent{0, 1, to_backup[1]});
  h.collect();
  EXPECT_EQ(h.r(1).op(), OpNumber(0));
  EXPECT_TRUE(h.sent<PrepareOk>().empty());
  // Op 1 arrives: the buffered ones chain on at once.
  h.deliver(Sent{0, 1, to_backup[0]});
  EXPECT_EQ(h.r(1).op(), OpNumber(3));
  h.collect();
  h.run([](const Sent& s) { return s.to != 2 && s.from != 2; });  // acks commit 1..3
  // A gap that does not close: GetState from our op after the wait.
  h.request(0, 100, Request{SessionId(0), RequestNumber(4), {}});
  h.request(0, 100, Request{SessionId(0), RequestNumber(5), {}});
  Prepare op5;
  for (const auto& [sent, p] : h.sent<Prepare>(1)) {
    if (p.entry.header.op == OpNumber(5)) op5 = p;
  }
  h.in_flight().clear();
  h.deliver(Sent{0, 1, op5});
  h.tick(1, h.node(1).config.gap_wait_ticks);
  const auto asks = h.sent<GetState>(0);
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_EQ(asks[0].second.op, OpNumber(3));
  EXPECT_FALSE(asks[0].second.committed_only);
}

TEST(NormalOperation, R7_AcknowledgementsFromAnotherViewNeverCount) {
  Harness h(3);
  h.boot_all();
  h.request(0, 100, Request{SessionId(0), RequestNumber(1), {}});
  h.in_flight().clear();
  const Checksum checksum = *h.r(0).journal().log().checksum_at(OpNumber(1));
  h.deliver(Sent{1, 0, PrepareOk{ViewNumber(7), OpNumber(1), checksum, 1}});
  h.deliver(Sent{2, 0, PrepareOk{ViewNumber(7), OpNumber(1), checksum, 2}});
  EXPECT_EQ(h.r(0).commit(), OpNumber(0));
  h.deliver(Sent{1, 0, PrepareOk{ViewNumber(0), OpNumber(1), checksum, 1}});
  EXPECT_EQ(h.r(0).commit(), OpNumber(1));
}

TEST(NormalOperation, R7_AnAcknowledgementOfNCommitsEverythingBelowN) {
  Harness h(3);
  h.boot_all();
  for (std::uint64_t nonce : {1, 2, 3}) h.request(0, 100, Request{SessionId(0), RequestNumber(nonce), {}});
  ASSERT_EQ(h.r(0).op(), OpNumber(3));
  h.in_flight().clear();
  const Checksum checksum = *h.r(0).journal().log().checksum_at(OpNumber(3));
  h.deliver(Sent{2, 0, PrepareOk{ViewNumber(0), OpNumber(3), checksum, 2}});
  EXPECT_EQ(h.r(0).commit(), OpNumber(3));
}

TEST(NormalOperation, R10_ABackupNeverCommitsPastTheOpsItHolds) {
  Harness h(3);
  h.boot_all();
  h.request(0, 100, Request{SessionId(0), RequestNumber(1), {}});
  const auto prepare = h.sent<Prepare>(1).at(0).second;
  h.in_flight().clear();
  h.deliver(Sent{0, 1, prepare});
  h.deliver(Sent{0, 1, Commit{ViewNumber(0), OpNumber(5), 0}});
  EXPECT_EQ(h.r(1).op(), OpNumber(1));
  EXPECT_EQ(h.r(1).commit(), OpNumber(1));
}

TEST(NormalOperation, AnIdlePrimarySendsCommitAsAHeartbeat) {
  Harness h(3);
  h.boot_all();
  h.tick(0, h.node(0).config.heartbeat_ticks);
  EXPECT_EQ(h.sent<Commit>().size(), 2u);
}

TEST(NormalOperation, EveryReplicaExecutesButOnlyThePrimaryReplies) {
  Harness h(3);
  h.boot_all();
  const SessionId s = h.register_session(0, 100, 7);
  h.request(0, 100, put_request(s, 1, "k", "v"));
  h.run();
  h.tick(0, 5);  // the heartbeat carries the commit number to the backups
  h.run();
  for (ReplicaId id = 0; id < 3; ++id) {
    EXPECT_EQ(h.r(id).commit(), OpNumber(2)) << int(id);
    EXPECT_EQ(h.node(id).store.execute(kv::Operation{kv::OpKind::get, "k", {}, {}}).value, "v") << int(id);
  }
  for (const ClientReply& r : h.replies()) EXPECT_EQ(r.client, 100u);
  EXPECT_EQ(replies_to(h, 100, 1), 1u);
}

// ---- The primary's own vote, reported by its driver (sync mode batch) ----
// With ReplicaConfig::self_durability_reported the driver syncs the primary's log in the
// background: the primary's copy counts toward a quorum only once on_durable() says so.

void report_durable(Replica& r, OpNumber op) {
  r.on_durable(op, r.journal().rewrites());
}

// Three replicas whose primaries count their own copy only when told. Booting, the
// primary of the persisted view starts a view change (it may lack commits, see
// APrimaryRestartedAfterAPowerCutDoesNotResumeItsView): settled here first.
struct ReportedCluster {
  Harness h{3, [](ReplicaConfig& c) { c.self_durability_reported = true; }};
  ReplicaId p = 0;   // the primary
  ReplicaId b1 = 0;  // its backups
  ReplicaId b2 = 0;
  ReportedCluster() {
    h.boot_all();
    h.run();
    p = h.r(0).primary_of(h.r(0).view());
    b1 = static_cast<ReplicaId>((p + 1) % 3);
    b2 = static_cast<ReplicaId>((p + 2) % 3);
  }
  std::function<bool(const Sent&)> only_with(ReplicaId backup) const {
    return [backup](const Sent& s) { return s.to == backup || s.from == backup; };
  }
};

TEST(PrimaryVote, OneBackupAndAnUnsyncedPrimaryAreNotAQuorum) {
  ReportedCluster c;
  Harness& h = c.h;
  ASSERT_EQ(h.r(c.p).status(), Status::normal);
  h.request(c.p, 100, Request{SessionId(0), RequestNumber(1), {}});
  ASSERT_EQ(h.r(c.p).op(), OpNumber(1));
  h.run(c.only_with(c.b1));  // backup 1 acks, backup 2 hears nothing
  EXPECT_EQ(h.r(c.p).commit(), OpNumber(0));
  // A report that does not name the journal's current rewrite count vouches for nothing.
  h.r(c.p).on_durable(OpNumber(1), h.r(c.p).journal().rewrites() + 1);
  EXPECT_EQ(h.r(c.p).commit(), OpNumber(0));
  report_durable(h.r(c.p), OpNumber(1));
  EXPECT_EQ(h.r(c.p).commit(), OpNumber(1));
  h.collect();
  EXPECT_EQ(h.replies().size(), 1u);
}

TEST(PrimaryVote, FPlusOneBackupsCommitWithoutThePrimarysSync) {
  ReportedCluster c;
  Harness& h = c.h;
  h.request(c.p, 100, Request{SessionId(0), RequestNumber(1), {}});
  h.run(c.only_with(c.b1));
  EXPECT_EQ(h.r(c.p).commit(), OpNumber(0));
  h.tick(c.p, h.node(c.p).config.prepare_retry_ticks);  // resent; now both backups ack
  h.run();
  EXPECT_EQ(h.r(c.p).commit(), OpNumber(1));
}

// The driver names the journal's rewrite count in each report (the count when the sync
// was asked for): a replaced entry makes every earlier report worthless. Appends do not
// count; replacing written entries does.
TEST(PrimaryVote, TheJournalCountsRewritesOfWrittenEntriesNotAppends) {
  Harness h(1);
  Node& n = h.node(0);
  n.seed_entry(ViewNumber(0), 1);
  n.seed_entry(ViewNumber(0), 2);
  const std::uint64_t before = n.journal.rewrites();
  n.seed_entry(ViewNumber(0), 3);
  EXPECT_EQ(n.journal.rewrites(), before) << "an append rewrites nothing";
  Entry e;
  e.header.cluster = kCluster;
  e.header.view = ViewNumber(0);
  e.header.op = OpNumber(2);
  e.header.parent = *n.journal.log().checksum_at(OpNumber(1));
  e.body = batch_of(SessionId(0), RequestNumber(99), {});
  e.header.seal(e.body);
  n.journal.replace_suffix(OpNumber(1), std::span(&e, 1), ViewNumber(0), ViewNumber(0),
                           OpNumber(0));
  EXPECT_EQ(n.journal.rewrites(), before + 1);
  EXPECT_EQ(n.journal.log().head(), OpNumber(2));
}

// The review of the background sync: a power cut takes the entries the primary wrote but
// never synced, although its backups committed them. Restarting as the primary of the
// same view, it would order new entries at those op numbers over the committed ones.
TEST(PrimaryVote, APrimaryRestartedAfterAPowerCutDoesNotResumeItsView) {
  ReportedCluster c;
  Harness& h = c.h;
  const ViewNumber view = h.r(c.p).view();
  // What the primary's disk holds: nothing after this point reaches it.
  const Bytes log_on_disk(h.node(c.p).log.bytes().begin(), h.node(c.p).log.bytes().end());
  const Bytes superblock_on_disk(h.node(c.p).superblock.bytes().begin(),
                                 h.node(c.p).superblock.bytes().end());
  h.request(c.p, 100, Request{SessionId(0), RequestNumber(1), {}});
  h.run();  // both backups acknowledge: committed without the primary's sync
  ASSERT_EQ(h.r(c.p).commit(), OpNumber(1));
  ASSERT_EQ(h.replies().size(), 1u);
  const Checksum committed = *h.r(c.b1).journal().log().checksum_at(OpNumber(1));
  // Power cut on the primary: its unsynced writes are gone.
  h.node(c.p).crash();
  h.node(c.p).log.write(0, log_on_disk);
  h.node(c.p).superblock.write(0, superblock_on_disk);
  h.node(c.p).boot();
  EXPECT_EQ(h.r(c.p).op(), OpNumber(0));
  EXPECT_FALSE(h.r(c.p).status() == Status::normal && h.r(c.p).view() == view)
      << "a restarted primary must not resume the view whose commits it may lack";
  // The cluster settles, orders one more request, and spreads the commit number.
  h.run();
  const ReplicaId primary = h.r(c.b1).primary_of(h.r(c.b1).view());
  h.request(primary, 101, Request{SessionId(0), RequestNumber(2), {}});
  h.run();
  h.tick_all(h.node(0).config.heartbeat_ticks);
  h.run();
  for (ReplicaId id = 0; id < 3; ++id) {
    EXPECT_EQ(h.r(id).journal().log().checksum_at(OpNumber(1)), committed)
        << "replica " << int(id) << " lost the committed op 1";
  }
}

TEST(PrimaryVote, WithoutTheReportACopyCountsAtOnce) {
  Harness h(3);  // the driver syncs before every input (sync mode none, tests, the simulator)
  h.boot_all();
  EXPECT_EQ(h.r(0).status(), Status::normal) << "a restarted primary resumes its view";
  h.request(0, 100, Request{SessionId(0), RequestNumber(1), {}});
  h.run([](const Sent& s) { return s.to == 1 || s.from == 1; });
  EXPECT_EQ(h.r(0).commit(), OpNumber(1));
  EXPECT_FALSE(h.r(0).wants_durable());
}

TEST(PrimaryVote, ThePrimaryWantsItsSyncWhenBackupsAloneDoNotCommit) {
  ReportedCluster c;
  Harness& h = c.h;
  h.request(c.p, 100, Request{SessionId(0), RequestNumber(1), {}});
  // Both backups keep up: they commit without the primary's flush.
  EXPECT_FALSE(h.r(c.p).wants_durable());
  h.run();
  EXPECT_EQ(h.r(c.p).commit(), OpNumber(1));
  // Op 2 reaches backup 1 only: still nothing says a backup fell behind...
  h.request(c.p, 100, Request{SessionId(0), RequestNumber(2), {}});
  h.run(c.only_with(c.b1));
  EXPECT_EQ(h.r(c.p).commit(), OpNumber(1));
  EXPECT_FALSE(h.r(c.p).wants_durable());
  // ...until the commit number stands still for two whole tick intervals (the first
  // tick only notes where it stood).
  h.tick(c.p, 2);
  EXPECT_FALSE(h.r(c.p).wants_durable());
  h.tick(c.p, 1);
  EXPECT_TRUE(h.r(c.p).wants_durable());
  h.in_flight().clear();
  report_durable(h.r(c.p), OpNumber(2));
  EXPECT_EQ(h.r(c.p).commit(), OpNumber(2));
  EXPECT_FALSE(h.r(c.p).wants_durable()) << "nothing left to sync";
  h.tick(c.p, 1);  // the commit number moved: no stall
  h.in_flight().clear();
  // Backup 2 is behind the commit number now: every new op needs the primary's vote.
  h.request(c.p, 100, Request{SessionId(0), RequestNumber(3), {}});
  EXPECT_EQ(h.r(c.p).op(), OpNumber(3));
  EXPECT_TRUE(h.r(c.p).wants_durable());
  // A backup never wants the primary's sync.
  EXPECT_FALSE(h.r(c.b1).wants_durable());
}

// The supervisor's hint that a backup died: the primary's vote is needed from the next
// op on, not only once the commit number has stalled for two ticks.
TEST(PrimaryVote, ABackupReportedDeadNoLongerCountsAsKeepingUp) {
  ReportedCluster c;
  Harness& h = c.h;
  h.request(c.p, 100, Request{SessionId(0), RequestNumber(1), {}});
  h.run();
  ASSERT_EQ(h.r(c.p).commit(), OpNumber(1));
  h.r(c.p).hint_replica_down(c.b2);
  h.request(c.p, 100, Request{SessionId(0), RequestNumber(2), {}});
  EXPECT_TRUE(h.r(c.p).wants_durable()) << "without waiting for a stall";
  EXPECT_EQ(h.r(c.p).view(), h.r(c.b1).view()) << "a backup's death changes no view";
  // It acks again (restarted, or the hint was wrong): it counts again.
  h.run();
  EXPECT_EQ(h.r(c.p).commit(), OpNumber(2));
  h.request(c.p, 100, Request{SessionId(0), RequestNumber(3), {}});
  EXPECT_FALSE(h.r(c.p).wants_durable());
}

}  // namespace
}  // namespace vsr::test
