// View change (VRR 4.2): StartViewChange, DoViewChange, StartView.
#include <algorithm>
#include <tuple>

#include "common/assert.h"
#include "replica/core/replica.h"

namespace vsr {

void Replica::start_view_change(ViewNumber view, ViewChangeCause cause) {
  if (status_ == Status::recovering) return;
  VSR_ASSERT(view > view_ || (view == view_ && status_ != Status::normal));
  view_ = view;
  status_ = Status::view_change;
  view_change_cause_ = cause;
#ifdef VSR_TEST_BUGS
  if (config_.bugs.early_last_normal_view) last_normal_view_ = view;
#endif
  reset_view_state();
  // The view is persisted before any message of it is sent (the driver syncs the
  // journal before sending), so a restart can never vote twice in one view.
  journal_.persist_view(view_, last_normal_view_, commit_);
  broadcast(StartViewChange{view_, config_.self});
  maybe_send_do_view_change();
}

void Replica::on_start_view_change(const StartViewChange& m) {
  if (status_ == Status::recovering || m.view < view_) return;
  if (m.view > view_) start_view_change(m.view, ViewChangeCause::peer);
  if (m.view != view_ || status_ != Status::view_change) return;
  start_view_change_from_.set(m.replica);
  maybe_send_do_view_change();
}

void Replica::maybe_send_do_view_change() {
  if (status_ != Status::view_change || do_view_change_sent_) return;
  // With faulty entries we cannot lead (we could not execute them), but we may still
  // take part: our DoViewChange then vouches only for last_normal_view and commit.
  if (!holds_whole_log() && primary_of(view_) == config_.self) return;
  // We count StartViewChange messages from f other replicas directly (no separate
  // acknowledgement message), as VRR 4.2 describes. (R#5)
  if (start_view_change_from_.count() < config_.f()) return;
  do_view_change_sent_ = true;
  DoViewChange dvc = make_do_view_change();
  if (primary_of(view_) == config_.self) {
    on_do_view_change(dvc);
  } else {
    send(primary_of(view_), std::move(dvc));
  }
}

DoViewChange Replica::make_do_view_change() const {
  // With faulty entries, no log: we vouch only for last_normal_view and commit.
  const bool whole = holds_whole_log();
  const OpNumber end = whole ? op() : commit_;
  return DoViewChange{
      view_, last_normal_view_, end, commit_, suffix_after(commit_, end), config_.self, whole};
}

void Replica::on_do_view_change(const DoViewChange& m) {
  if (status_ == Status::recovering || primary_of(m.view) != config_.self) return;
  if (m.view < view_) return;
  if (m.view > view_) start_view_change(m.view, ViewChangeCause::peer);
  if (m.view != view_) return;
  if (status_ == Status::normal) {
    // A late DoViewChange: its sender missed our StartView.
    if (is_primary() && m.replica != config_.self) send(m.replica, make_start_view(m.commit));
    return;
  }
  if (status_ != Status::view_change || awaiting_committed_) return;
  do_view_change_from_[m.replica] = m;
  // A DoViewChange also says its sender is in this view change.
  if (m.replica != config_.self) start_view_change_from_.set(m.replica);
  maybe_send_do_view_change();
  if (status_ == Status::view_change && !awaiting_committed_ &&
      do_view_change_from_.size() >= config_.quorum() &&
      do_view_change_from_.contains(config_.self)) {
    complete_view_change();
  }
}

void Replica::complete_view_change() {
  // The log with the largest last_normal_view wins, ties broken by the largest op;
  // the new commit number is the largest of all. (VRR 4.2)
  //
  // A DoViewChange without its log (the sender holds faulty entries, e.g. torn by a
  // power cut) counts toward the quorum only if its last_normal_view is below the
  // chosen log's: every op committed in an earlier view is in the chosen log (a log of
  // a later normal view), and an op committed in the chosen log's own view has an
  // acknowledger in any quorum, whose last_normal_view is that view: a whole one.
  const DoViewChange* best = nullptr;
  OpNumber commit;
  for (const auto& [replica, dvc] : do_view_change_from_) {
    commit = std::max(commit, dvc.commit);
    if (!dvc.whole) continue;
    if (best == nullptr ||
        std::tie(dvc.last_normal_view, dvc.op) > std::tie(best->last_normal_view, best->op)) {
      best = &dvc;
    }
  }
  VSR_ASSERT(best != nullptr);  // ours is whole
  std::uint32_t counted = 0;
  for (const auto& [replica, dvc] : do_view_change_from_) {
    counted += dvc.whole || dvc.last_normal_view < best->last_normal_view ? 1 : 0;
  }
  if (counted < config_.quorum()) return;  // wait for more (or the next view)
  VSR_ASSERT(commit <= best->op);
  if (best->replica == config_.self || adopt_suffix(best->log, view_, view_)) {
    if (best->replica == config_.self) {
      last_normal_view_ = view_;
      journal_.persist_view(view_, view_, commit_);
    }
    return become_primary(commit);
  }
  // Our log does not reach the chosen log's start: fetch the committed entries we
  // lack from its owner (any replica may serve committed entries), then adopt it.
  awaiting_committed_ = *best;
  awaiting_commit_ = commit;
  send(best->replica, GetState{view_, commit_, true, config_.self});
}

void Replica::become_primary(OpNumber commit) {
  VSR_ASSERT(status_ == Status::view_change && last_normal_view_ == view_);
  VSR_ASSERT(commit <= op());
  OpNumber start = commit;
  for (const auto& [replica, dvc] : do_view_change_from_) start = std::min(start, dvc.commit);
  status_ = Status::normal;
  reset_view_state();
  commit_max_ = commit;
  commit_through(commit);
  broadcast(make_start_view(start));
  try_commit();
}

StartView Replica::make_start_view(OpNumber start) const {
  // The tail from the lowest commit we know of, bounded so the message stays small;
  // backups that cannot chain it onto their log ask for state.
  const std::uint64_t tail = std::uint64_t{config_.pipeline_max} * 4;
  if (op().value() > tail) start = std::max(start, OpNumber(op().value() - tail));
  return StartView{view_, op(), commit_, suffix_after(std::min(start, op()), op()), config_.self};
}

void Replica::on_start_view(const StartView& m) {
  if (status_ == Status::recovering || m.view < view_) return;
#ifdef VSR_TEST_BUGS
  const bool any_sender = config_.bugs.unstable_primary_order;
#else
  const bool any_sender = false;
#endif
  if (!any_sender && m.replica != primary_of(m.view)) return;
  if (m.view == view_ && status_ == Status::normal) return;  // a duplicate
  if (adopt_suffix(m.log, m.view, m.view)) {
    status_ = Status::normal;
    reset_view_state();
    commit_max_ = m.commit;
    commit_through(std::min(m.commit, op()));
    send_prepare_ok(op());  // acknowledges the whole uncommitted suffix at once
    return;
  }
  // We cannot chain the new log's tail: enter the view and fetch its log.
  if (m.view > view_) {
    view_ = m.view;
    journal_.persist_view(view_, last_normal_view_, commit_);
  }
  status_ = Status::state_transfer;
  reset_view_state();
  request_state();
}

void Replica::view_change_tick() {
  if (++view_change_ticks_ >= view_change_timeout_) {
    // This view change is stuck (its primary may be down): try the next view.
    return start_view_change(view_.next(), ViewChangeCause::stalled);
  }
  if (view_change_ticks_ % config_.retry_ticks != 0) return;
  // Messages may have been lost: say it again.
  broadcast(StartViewChange{view_, config_.self});
  if (do_view_change_sent_ && primary_of(view_) != config_.self) {
    send(primary_of(view_), make_do_view_change());
  }
  if (awaiting_committed_) {
    send(awaiting_committed_->replica, GetState{view_, commit_, true, config_.self});
  }
}

}  // namespace vsr
