// Recovery (VRR 4.3) of a replica without trustworthy state, and repair of single
// faulty entries found on restart (protocol-aware recovery).
#include <algorithm>

#include "common/assert.h"
#include "replica/core/replica.h"

namespace vsr {

namespace {
constexpr std::size_t kRepairsPerRound = 16;
// Rounds of RequestEntry before also asking for state: the peers may have compacted
// the entry into a checkpoint, which only a state transfer can bring.
constexpr std::uint32_t kRepairRoundsBeforeStateTransfer = 3;
}

void Replica::start_recovery() {
  // Until recovered it takes no part in normal operation or view changes: no
  // PrepareOk, StartViewChange, DoViewChange or RecoveryResponse.
  status_ = Status::recovering;
  recovery_responses_.clear();
  recovery_view_.reset();
  recovery_ticks_ = 0;
  broadcast(Recovery{nonce_, config_.self});
}

void Replica::on_recovery(const Recovery& m) {
  if (status_ != Status::normal || !holds_whole_log()) return;
  RecoveryResponse response{view_, m.nonce, false, OpNumber(0), OpNumber(0), config_.self};
  if (is_primary()) {  // only the primary's response carries op and commit
    response.from_primary = true;
    response.op = op();
    response.commit = commit_;
  }
  send(m.replica, response);
}

void Replica::on_recovery_response(const RecoveryResponse& m) {
  if (status_ != Status::recovering || m.nonce != nonce_ || recovery_view_) return;
  recovery_responses_[m.replica] = m;
  if (recovery_responses_.size() < config_.quorum()) return;
  // f+1 responses with our nonce, including the primary of the largest view among
  // them: that primary's state is the one to adopt.
  ViewNumber view;
  for (const auto& [replica, response] : recovery_responses_) view = std::max(view, response.view);
  auto primary = recovery_responses_.find(primary_of(view));
  if (primary == recovery_responses_.end() || !primary->second.from_primary ||
      primary->second.view != view) {
    return;
  }
  // The primary's log can be large: it comes as a NewState (checkpoint and entries)
  // rather than inside the response. We stay recovering until it is installed.
  recovery_view_ = view;
  recovery_ticks_ = 0;
  send(primary_of(view), GetState{view, op(), false, config_.self});
}

void Replica::recovery_tick() {
  if (++recovery_ticks_ < config_.retry_ticks) return;
  recovery_ticks_ = 0;
  if (recovery_view_) {
    // The primary did not answer (it may have moved on): start again, with a new
    // nonce so that old responses cannot count.
    nonce_ += 1;
  }
  start_recovery();
}

void Replica::on_request_entry(const RequestEntry& m) {
  // A recovering replica holds nothing it could vouch for, not even an absence: it may
  // have lost entries it acknowledged without any fault (a hole a power cut left in its
  // log, a crash in the middle of an install), so its nack would prove nothing.
  if (status_ == Status::recovering) return;
  const auto entry = log().entry(m.op);
  // The checksum makes the answer self-verifying, so anyone holding it may answer.
  if (entry && entry->header.checksum == m.checksum) {
    send(m.replica, EntryRepair{Entry{entry->header, Bytes(entry->body.begin(), entry->body.end())},
                                config_.self});
    return;
  }
  // An op we compacted into our checkpoint: committed here, as some entry we can no
  // longer name. Only a state transfer settles it; no answer.
  if (m.op < log().first()) return;
  send(m.replica, EntryNack{m.op, m.checksum, view_, config_.self});
}

void Replica::on_entry_repair(const EntryRepair& m) {
  if (status_ == Status::recovering) return;
  if (!journal_.repair(m.entry.header, m.entry.body)) return;
  if (status_ == Status::normal) commit_through(is_primary() ? commit_ : commit_max_);
  if (holds_whole_log() && status_ == Status::view_change) maybe_send_do_view_change();
}

void Replica::on_entry_nack(const EntryNack& m) {
  if (status_ == Status::recovering || m.replica >= config_.replica_count) return;
  const auto faulty = log().faulty().find(m.op);
  if (faulty == log().faulty().end() || faulty->second.checksum != m.checksum) return;
  // Views only grow: the latest view a replica nacked from is what counts.
  ViewNumber& view = nacks_[m.op][m.replica];
  view = std::max(view, m.view);
  maybe_drop_torn_tail();
}

// A power cut in sync mode batch can leave an entry that was never synced, hence never
// acknowledged, faulty: its slot's page reached the disk and its body's did not. Then
// nobody may hold it, and waiting for a repair waits forever (a one-replica cluster, or
// f+1 replicas cut at once, would never serve again). We drop such an entry (k, c),
// with everything after it, once k is above every commit number we know of and every
// other replica has nacked it from a view after our last_normal_view. Safe as long as
// at most f replicas have lost acknowledged data (a flipped bit, a wipe; losing writes
// never synced loses nothing):
//  - We acknowledged only in views up to last_normal_view, so a commit that counted us
//    happened in such a view. A nacking replica had left those views, so it
//    acknowledged (k, c) there, if at all, before its nack, holding it synced; not
//    holding it now, it lost it (a view change or state transfer never drops a
//    committed entry, and a recovering replica does not answer).
//  - No view up to last_normal_view commits anything after the nacks: its primary
//    would have to be normal in it, but every other replica is past it, and we do not
//    acknowledge while the entry is faulty.
//  - So a commit of (k, c) that counted us means f+1 replicas lost it (we did too: ours
//    is the faulty entry). A commit that did not count us loses no counted copy.
//  - Entries after k chain on it: none is committed unless k is.
// With one replica no answer is needed: everything a commit counted was synced.
void Replica::maybe_drop_torn_tail() {
  const OpNumber known_commit = std::max({commit_, commit_max_, journal_.superblock().commit});
  for (const auto& [op, header] : log().faulty()) {
    if (op <= known_commit) continue;  // committed: only a repair will do
    const auto it = nacks_.find(op);
    // From a view after our last_normal_view.
    const auto nacked = static_cast<std::uint32_t>(
        it == nacks_.end() ? 0
                           : std::count_if(it->second.begin(), it->second.end(),
                                           [&](ViewNumber v) { return v > last_normal_view_; }));
    if (nacked + 1 < config_.replica_count) continue;
    VSR_ASSERT(op > journal_.checkpoint_op());
    journal_.replace_suffix(op.prev(), {}, view_, last_normal_view_, known_commit);
    nacks_.clear();
    if (holds_whole_log() && status_ == Status::view_change) maybe_send_do_view_change();
    return;
  }
}

void Replica::repair_tick() {
  maybe_drop_torn_tail();  // one replica: no nacks come
  if (holds_whole_log() || ++repair_ticks_ < config_.retry_ticks) return;
  repair_ticks_ = 0;
  std::size_t asked = 0;
  for (const auto& [op, header] : log().faulty()) {
    if (asked++ == kRepairsPerRound) break;
    broadcast(RequestEntry{op, header.checksum, config_.self});
  }
  if (++repair_rounds_ % kRepairRoundsBeforeStateTransfer == 0 &&
      (status_ == Status::state_transfer || (status_ == Status::normal && !is_primary()))) {
    request_state();
  }
}

}  // namespace vsr
