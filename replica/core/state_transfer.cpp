// State transfer (VRR 5.2) and checkpoints (VRR 5.1).
//
// Why state transfer is atomic. VRR 5.2 has a replica that learns of a newer view
// first drop its uncommitted entries (op := commit) and then ask for state. Done
// literally, that replica keeps its old last_normal_view while holding fewer
// entries than it acknowledged in that view. Two such replicas plus one that never
// held the entry form a quorum for the next view change whose best log lacks an
// entry committed in the old view: the entry is lost. So we ask with our commit
// number and the new view (R#6) but keep our log untouched until the NewState
// arrives, then replace the suffix and set last_normal_view in one atomic journal
// step (Journal::replace_suffix).
#include <algorithm>

#include "common/assert.h"
#include "replica/core/replica.h"

namespace vsr {

void Replica::learn_newer_view(ViewNumber view) {
  VSR_ASSERT(view > view_);
  view_ = view;
  status_ = Status::state_transfer;
  reset_view_state();
  journal_.persist_view(view_, last_normal_view_, commit_);
  request_state();
}

void Replica::request_state() {
  // Addressed with our current (newest) view. (R#6) The primary first; then any
  // other replica, since every replica normal in the view can answer.
  ReplicaId target = primary_of(view_);
  if (state_transfer_attempt_ > 0 && config_.replica_count > 1) {
    target = static_cast<ReplicaId>((target + state_transfer_attempt_) % config_.replica_count);
    if (target == config_.self) target = static_cast<ReplicaId>((target + 1) % config_.replica_count);
  }
  ++state_transfer_attempt_;
  state_transfer_ticks_ = 0;
  if (target == config_.self) return;
  send(target, GetState{view_, commit_, false, config_.self});
}

LogSuffix Replica::suffix_after(OpNumber start, OpNumber end) const {
  start = std::max(start, journal_.checkpoint_op());
  VSR_ASSERT(start <= end && end <= op());
  LogSuffix suffix;
  suffix.start = start;
  const auto start_checksum = log().checksum_at(start);
  VSR_ASSERT(start_checksum.has_value());
  suffix.start_checksum = *start_checksum;
  for (OpNumber o = start.next(); o <= end; o = o.next()) {
    const auto entry = log().entry(o);
    if (!entry) break;  // a faulty entry ends what we can vouch for
    suffix.entries.push_back(Entry{entry->header, Bytes(entry->body.begin(), entry->body.end())});
  }
  return suffix;
}

void Replica::on_get_state(const GetState& m) {
  if (status_ == Status::recovering) return;
  NewState reply;
  reply.view = view_;
  reply.commit = commit_;
  reply.replica = config_.self;
  OpNumber end;
  if (m.committed_only) {
    // Committed entries are the same on every replica, in any view and status.
    if (m.op >= commit_) return;
    reply.committed_only = true;
    end = commit_;
  } else {
    // Only a replica normal in the requested view answers with its log. (VRR 5.2)
    if (status_ != Status::normal || m.view != view_ || m.op > op()) return;
    end = op();
  }
  reply.op = end;
  OpNumber start = m.op;
  if (m.op < journal_.checkpoint_op()) {
    // The log below the request was compacted: send the checkpoint and what follows.
    auto state = journal_.checkpoint_state();
    if (!state) return;
    start = journal_.checkpoint_op();
    reply.checkpoint =
        CheckpointState{start, *log().checksum_at(start), std::move(*state)};
  }
  reply.log = suffix_after(start, end);
  // A faulty entry of ours cut the suffix short (a replica can be normal with one below
  // the log it adopted): we cannot vouch for the rest, and a shorter log than the view's
  // would cut the asker's. Another replica answers.
  if (reply.log.end() < end) return;
  send(m.replica, std::move(reply));
}

void Replica::on_new_state(const NewState& m) {
  if (m.committed_only) {
    // Only a new primary that lacks committed entries below its chosen log asks.
    if (status_ != Status::view_change || !awaiting_committed_ ||
        m.replica != awaiting_committed_->replica) {
      return;
    }
    // The committed entries and the chosen log's tail become our log in one step,
    // with last_normal_view set to the new view.
    NewState merged = m;
    merged.committed_only = false;
    if (!append_tail(merged.log, awaiting_committed_->log)) return;
    if (!install(merged, view_)) return;
    return become_primary(awaiting_commit_);
  }
  if (status_ == Status::recovering) {
    // The primary of the view our recovery learned sends its whole state.
    if (!recovery_view_ || m.view != *recovery_view_ || m.replica != primary_of(m.view)) return;
  } else {
    // A NewState of another view is stale (R#6); a primary asks no one.
    if (m.view != view_ || (status_ != Status::state_transfer && status_ != Status::normal) ||
        is_primary()) {
      return;
    }
  }
  if (!install(m, m.view)) return;
  // Finishing state transfer or recovery makes the replica normal in the view.
  status_ = Status::normal;
  reset_view_state();
  commit_max_ = m.commit;
  commit_through(std::min(m.commit, op()));
  send_prepare_ok(op());
}

bool Replica::append_tail(LogSuffix& base, const LogSuffix& tail) {
  // base covers (base.start, base.end()]; tail must reach back to base.end() and
  // hold the same entry there, so that the two chain.
  const OpNumber joint = base.end();
  if (tail.start > joint || tail.end() < joint) return false;
  if (base.checksum_at(joint) != tail.checksum_at(joint)) return false;
  for (const Entry& e : tail.entries) {
    if (e.header.op > joint) base.entries.push_back(e);
  }
  return true;
}

bool Replica::install(const NewState& m, ViewNumber view) {
  const ViewNumber last_normal = m.committed_only ? last_normal_view_ : view;
  if (!m.checkpoint || m.checkpoint->op <= commit_) return adopt_suffix(m.log, view, last_normal);
  const CheckpointState& checkpoint = *m.checkpoint;
  if (m.log.start != checkpoint.op || m.log.start_checksum != checkpoint.checksum) return false;
  // A state of our own last normal view holds the same entries as our log wherever both
  // reach (both are prefixes of that view's primary's log). If it ends before our log
  // does, its checkpoint and log alone would cut entries we may have acknowledged (see
  // adopt_suffix): ours after its log are kept, and chain onto it.
  std::vector<Entry> entries = m.log.entries;
  if (last_normal_view_ == view && m.log.end() < op()) {
    VSR_ASSERT_MSG(log().checksum_at(m.log.end()) == m.log.checksum_at(m.log.end()),
                   "two logs of one view disagree");
    for (OpNumber o = m.log.end().next(); o <= op(); o = o.next()) {
      const auto entry = log().entry(o);
      if (!entry) return false;  // a faulty entry of ours: repair it first
      entries.push_back(Entry{entry->header, Bytes(entry->body.begin(), entry->body.end())});
    }
  }
  // Decode into fresh objects first: a state we cannot read must change nothing.
  ClientTable table(config_.client_table_capacity);
  Reader r(checkpoint.state);
  const ByteView machine = r.get_bytes(checkpoint.state.size());
  if (!r.ok() || !table.restore(r) || !r.done() || !state_machine_.restore(machine)) return false;
  table_ = std::move(table);
  journal_.install_checkpoint(checkpoint, entries, view, last_normal, m.commit);
  commit_ = checkpoint.op;
  view_ = view;
  last_normal_view_ = last_normal;
  return true;
}

bool Replica::adopt_suffix(const LogSuffix& suffix, ViewNumber view, ViewNumber last_normal_view) {
  // Where the suffix meets our log: the latest op both of us can name, never below
  // our checkpoint. Equal checksums there mean equal histories up to there.
  const OpNumber at = std::max(suffix.start, journal_.checkpoint_op());
  if (at > suffix.end() || at > op()) return false;
  if (suffix.end() < commit_) return false;  // from a replica further behind than we are
  const auto ours = log().checksum_at(at);
  if (!ours || *ours != suffix.checksum_at(at)) return false;

  // Skip what we already hold identically.
  std::size_t index = at.value() - suffix.start.value();
  OpNumber kept = at;
  while (index < suffix.entries.size() && kept < op() &&
         log().checksum_at(kept.next()) == suffix.entries[index].header.checksum) {
    // An entry we hold only as a faulty header is mended from the suffix's copy.
    const Entry& e = suffix.entries[index];
    if (log().faulty().contains(e.header.op)) journal_.repair(e.header, e.body);
    ++index;
    kept = kept.next();
  }
  // Committed entries never change: a suffix that disagrees below our commit
  // number means two histories were committed, which the protocol rules out.
  VSR_ASSERT_MSG(kept >= commit_ || kept == op(), "a log suffix contradicts committed entries");
  const std::span<const Entry> rest = std::span(suffix.entries).subspan(index);
  if (last_normal_view_ == view) {
    // Our log is already a log of this view (we are normal in it, or were before a
    // restart or a missed StartView put us into view change or state transfer): our
    // log and the suffix are both prefixes of the primary's log, so they cannot
    // disagree, and a shorter suffix must never cut entries we hold. We may have
    // acknowledged them: cut, with last_normal_view still this view, we and the
    // lagging replica that sent the suffix could form the next view change's quorum
    // without an entry committed in this view.
    VSR_ASSERT_MSG(rest.empty() || kept == op(), "two logs of one view disagree");
    if (rest.empty()) return true;
  }

  std::uint64_t bytes = 0;
  for (const Entry& e : rest) bytes += e.body.size() + EntryHeader::kEncodedSize + 8;
  if (bytes + log().bytes_after_anchor() > log().geometry().ring_bytes / 2 &&
      commit_ > journal_.checkpoint_op()) {
    // Make room: everything up to our commit number becomes reusable.
    journal_.checkpoint(commit_, encode_state(), commit_);
  }
  if (kept == op() && journal_.superblock().trustworthy) {
    // Appending only: the old log is a prefix of the new one.
    for (const Entry& e : rest) {
      if (!journal_.can_append(e.body.size())) return false;
      journal_.append(e.header, e.body);
    }
    journal_.persist_view(view, last_normal_view, commit_);
  } else {
    journal_.replace_suffix(kept, rest, view, last_normal_view, commit_);
  }
  view_ = view;
  last_normal_view_ = last_normal_view;
  return true;
}

void Replica::maybe_checkpoint() {
  if (commit_ <= journal_.checkpoint_op()) return;
  if (commit_.value() - journal_.checkpoint_op().value() < config_.checkpoint_interval &&
      !journal_.wants_checkpoint()) {
    return;
  }
  journal_.checkpoint(commit_, encode_state(), commit_);
}

void Replica::state_transfer_tick() {
  if (++ticks_since_primary_ >= view_change_timeout_)
    return start_view_change(view_.next(), ViewChangeCause::primary_silent);
  if (++state_transfer_ticks_ >= config_.retry_ticks) request_state();
}

}  // namespace vsr
