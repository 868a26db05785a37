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
  if (status_ == Status::recovering) return;
  const auto entry = log().entry(m.op);
  // The checksum makes the answer self-verifying, so anyone holding it may answer.
  if (!entry || entry->header.checksum != m.checksum) return;
  send(m.replica, EntryRepair{Entry{entry->header, Bytes(entry->body.begin(), entry->body.end())},
                              config_.self});
}

void Replica::on_entry_repair(const EntryRepair& m) {
  if (status_ == Status::recovering) return;
  if (!journal_.repair(m.entry.header, m.entry.body)) return;
  if (status_ == Status::normal) commit_through(is_primary() ? commit_ : commit_max_);
  if (holds_whole_log() && status_ == Status::view_change) maybe_send_do_view_change();
}

void Replica::repair_tick() {
  if (++repair_ticks_ < config_.retry_ticks) return;
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
