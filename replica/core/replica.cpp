#include "replica/core/replica.h"

#include <algorithm>
#include <type_traits>

#include "common/assert.h"
#include "replica/core/limits.h"

namespace vsr {

std::string ReplicaConfig::invalid_reason() const {
  if (replica_count < 1 || replica_count > kMaxReplicas || replica_count % 2 == 0) {
    return "the number of replicas must be 1, 3, 5 or 7";
  }
  if (self >= replica_count) return "the replica id must be below the number of replicas";
  if (heartbeat_ticks == 0 || view_change_timeout_ticks <= heartbeat_ticks) {
    return "the view change timeout must exceed the heartbeat interval";
  }
  if (prepare_retry_ticks == 0 || gap_wait_ticks == 0 || retry_ticks == 0) {
    return "retry intervals must be positive";
  }
  if (pipeline_max == 0 || pipeline_max > 1024) return "the pipeline depth must be 1..1024";
  if (batch_max_requests == 0 || batch_max_requests > 1024) return "batch size must be 1..1024";
  if (batch_max_bytes < limits::kOperationBytes + 32 || batch_max_bytes > limits::kEntryBodyBytes) {
    return "batch bytes must hold one operation and be at most 1 MiB";
  }
  if (checkpoint_interval == 0) return "the checkpoint interval must be positive";
  if (client_table_capacity == 0) return "the client table needs at least one session";
  return {};
}

Replica::Replica(const ReplicaConfig& config, journal::Journal& journal,
                 StateMachine& state_machine, const Boot& boot)
    : config_(config),
      journal_(journal),
      state_machine_(state_machine),
      table_(config.client_table_capacity) {
  VSR_ASSERT_MSG(config_.invalid_reason().empty(), config_.invalid_reason().c_str());
  VSR_ASSERT(journal_.identity().replica == config_.self);
  VSR_ASSERT(journal_.identity().replica_count == config_.replica_count);
  // The ring must hold a quarter's worth of entries before a checkpoint plus the
  // pipeline, with room to spare, or appends could wait for a checkpoint forever.
  const journal::Geometry& geometry = journal_.log().geometry();
  VSR_ASSERT_MSG(4 * (config_.pipeline_max + 1) * config_.batch_max_bytes <= geometry.ring_bytes,
                 "the log ring is too small for the pipeline and batch size");
  VSR_ASSERT_MSG(4 * (config_.pipeline_max + 1) <= geometry.slot_count,
                 "the log has too few slots for the pipeline");
  random_state_ = config_.seed ^ (0x9e3779b97f4a7c15ULL * (config_.self + 1));

  if (boot.kind == Boot::Kind::recover) {
    VSR_ASSERT(!journal_.superblock().trustworthy);
    nonce_ = boot.nonce;
    start_recovery();
    return;
  }
  VSR_ASSERT(journal_.superblock().trustworthy);
  view_ = journal_.view();
  last_normal_view_ = journal_.last_normal_view();
  if (!boot.checkpoint_state.empty()) restore_state(boot.checkpoint_state);
  commit_ = journal_.checkpoint_op();
  reset_view_state();
  // Re-execute what was committed after the checkpoint (the superblock's commit
  // number is a lower bound; peers tell us the rest).
  commit_through(std::min(journal_.superblock().commit, op()));

  // A replica restarting with its persisted state rejoins in its persisted view
  // (VRR 4.3 applies only to replicas without trustworthy state). That is safe
  // because view and last_normal_view were persisted before any message of the view
  // was sent, and every entry before it was acknowledged.
  //
  // Except the primary of that view when its own copy did not have to count toward
  // its commits (self_durability_reported): f+1 backups may have committed entries it
  // never synced, which a power cut took from its log. Resuming, it would give new
  // entries those op numbers and the backups would replace the committed ones. It
  // starts a view change instead: any quorum of DoViewChanges holds a log with every
  // committed entry, and the longest log of the latest normal view wins. Also with
  // faulty entries: waiting in its own view, once they were repaired a stale
  // DoViewChange of that view could make it the view's primary again.
  const bool may_lack_commits = config_.self_durability_reported && is_primary();
  if (last_normal_view_ == view_ && may_lack_commits) {
    start_view_change(view_.next(), ViewChangeCause::restart);
  } else if (last_normal_view_ == view_ && holds_whole_log()) {
    status_ = Status::normal;
  } else {
    status_ = Status::view_change;
    view_change_cause_ = ViewChangeCause::unfinished;
    broadcast(StartViewChange{view_, config_.self});
  }
}

ReplicaId Replica::primary_of(ViewNumber view) const {
#ifdef VSR_TEST_BUGS
  if (config_.bugs.unstable_primary_order) {
    // Each replica ranks the members by its own order (itself first), as the
    // reviewed code did by sorting process handles.
    const std::uint32_t n = config_.replica_count;
    return static_cast<ReplicaId>((view.value() + (config_.self % 2)) % n);
  }
#endif
  // primary(v) = v mod N over the stable configured ids. (R#2)
  return static_cast<ReplicaId>(view.value() % config_.replica_count);
}

void Replica::step(const Message& message) {
  const ReplicaId from = sender_of(message);
  if (from >= config_.replica_count || from == config_.self) return;  // not a peer: drop
  note_heard_from(from);
  std::visit(
      [this](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Prepare>) on_prepare(m);
        if constexpr (std::is_same_v<T, PrepareOk>) on_prepare_ok(m);
        if constexpr (std::is_same_v<T, Commit>) on_commit(m);
        if constexpr (std::is_same_v<T, StartViewChange>) on_start_view_change(m);
        if constexpr (std::is_same_v<T, DoViewChange>) on_do_view_change(m);
        if constexpr (std::is_same_v<T, StartView>) on_start_view(m);
        if constexpr (std::is_same_v<T, GetState>) on_get_state(m);
        if constexpr (std::is_same_v<T, NewState>) on_new_state(m);
        if constexpr (std::is_same_v<T, Recovery>) on_recovery(m);
        if constexpr (std::is_same_v<T, RecoveryResponse>) on_recovery_response(m);
        if constexpr (std::is_same_v<T, RequestEntry>) on_request_entry(m);
        if constexpr (std::is_same_v<T, EntryRepair>) on_entry_repair(m);
        if constexpr (std::is_same_v<T, EntryNack>) on_entry_nack(m);
      },
      message);
}

void Replica::tick() {
  ++now_;
  switch (status_) {
    case Status::normal:
      if (is_primary()) {
        primary_tick();
      } else {
        backup_tick();
      }
      break;
    case Status::view_change:
      view_change_tick();
      break;
    case Status::state_transfer:
      state_transfer_tick();
      break;
    case Status::recovering:
      recovery_tick();
      break;
  }
  if (status_ != Status::recovering && !holds_whole_log()) repair_tick();
}

void Replica::hint_replica_down(ReplicaId replica) {
  if (replica >= config_.replica_count || replica == config_.self) return;
  // The primary of our view is gone: no need to wait for the timeout. Safety does
  // not depend on this being true; a wrong hint costs one view change.
  const bool waiting_on_primary =
      (status_ == Status::normal && !is_primary()) || status_ == Status::state_transfer;
  // A primary whose own copy counts only once synced (self_durability_reported) stops
  // relying on a dead backup to commit without that sync, without waiting for the
  // commit number to stall (wants_durable()).
  if (status_ == Status::normal && is_primary()) {
    reported_down_.set(replica);
    // Deferred Prepares now go to the backups left: the dead one may have been the
    // one the quorum waited for.
    catch_up_backups(op());
  }
  if (waiting_on_primary && replica == primary_of(view_)) {
    start_view_change(view_.next(), ViewChangeCause::primary_down);
  }
}

void Replica::send(ReplicaId to, Message message) {
  VSR_ASSERT(to < config_.replica_count && to != config_.self);
  output_.messages.push_back(Envelope{to, std::move(message)});
}

void Replica::broadcast(Message message) {
  if (config_.replica_count == 1) return;
  output_.messages.push_back(Envelope{std::nullopt, std::move(message)});
}

void Replica::reply(ClientId client, Reply reply) {
  output_.replies.push_back(ClientReply{client, std::move(reply)});
}

void Replica::reset_view_state() {
  start_view_change_from_.reset();
  do_view_change_from_.clear();
  do_view_change_sent_ = false;
  awaiting_committed_.reset();
  acked_.fill(OpNumber(0));
  sent_.fill(op());
  team_.reset();
  reported_down_.reset();
  commit_stalled_ticks_ = 0;
  future_.clear();
  gap_ticks_ = 0;
  queue_.clear();
  in_flight_.clear();
  register_reply_to_.clear();
  ticks_since_primary_ = 0;
  ticks_since_prepare_ = 0;
  ticks_since_retry_ = 0;
  view_change_ticks_ = 0;
  state_transfer_ticks_ = 0;
  state_transfer_attempt_ = 0;
  commit_max_ = commit_;
  view_change_timeout_ = jittered(config_.view_change_timeout_ticks);
}

std::uint64_t Replica::next_random() {
  // splitmix64 over a state seeded from the configuration.
  random_state_ += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = random_state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint32_t Replica::jittered(std::uint32_t base) {
  // base .. 2*base: replicas that time out together rarely keep colliding.
  return base + static_cast<std::uint32_t>(next_random() % (base + 1));
}

void Replica::note_heard_from(ReplicaId replica) { last_heard_[replica] = now_; }

Bytes Replica::encode_state() const {
  Bytes machine;
  state_machine_.snapshot(machine);
  Bytes out;
  Writer w(out);
  w.put_bytes(machine);
  table_.snapshot(out);
  return out;
}

void Replica::restore_state(ByteView state) {
  Reader r(state);
  const ByteView machine = r.get_bytes(state.size());
  // A checkpoint passed its checksum, so failing to decode it is a bug, not bad input.
  VSR_ASSERT_MSG(r.ok() && state_machine_.restore(machine), "checkpoint state does not decode");
  VSR_ASSERT_MSG(table_.restore(r) && r.done(), "checkpoint client table does not decode");
}

}  // namespace vsr
