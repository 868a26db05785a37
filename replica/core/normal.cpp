// Normal operation (VRR 4.1): requests, batching, Prepare, PrepareOk, Commit,
// execution and replies.
#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "common/assert.h"
#include "replica/core/batch.h"
#include "replica/core/limits.h"
#include "replica/core/replica.h"

namespace vsr {

namespace {
bool accepts_sender(const ReplicaConfig& config, ReplicaId sender, ReplicaId expected) {
#ifdef VSR_TEST_BUGS
  if (config.bugs.unstable_primary_order) return true;
#endif
  (void)config;
  return sender == expected;
}
}  // namespace

void Replica::on_request(ClientId client, Request request) {
  Reply refusal{view_, request.session, request.request, ReplyStatus::not_primary, {}};
  // Only the primary in status normal accepts requests; others say which view they
  // are in, so the client can find primary(view).
  if (status_ != Status::normal || !is_primary()) return reply(client, std::move(refusal));
  if (queue_.size() >= config_.request_queue_max) {
    refusal.status = ReplyStatus::busy;
    return reply(client, std::move(refusal));
  }
  if (request.session.value() == 0) {  // registration: ordered like any request
    if (!request.operation.empty() || register_reply_to_.size() >= config_.request_queue_max) {
      refusal.status = ReplyStatus::invalid;
      return reply(client, std::move(refusal));
    }
    register_reply_to_[request.request.value()] = client;
    queue_.push_back(Queued{client, std::move(request)});
    return;
  }
  const ClientTable::Session* session = table_.find(request.session);
  if (session == nullptr) {
    // Ids are never reused: an unknown id below next_session() was evicted, and one
    // at or above it was never issued; either way the client must register again.
    refusal.status = ReplyStatus::session_evicted;
    return reply(client, std::move(refusal));
  }
  if (request.request < session->request) return;  // older than the latest: drop
  if (request.request == session->request) {       // executed: resend the cached reply
    return reply(client, Reply{view_, request.session, request.request, ReplyStatus::ok,
                               session->result});
  }
  auto in_flight = in_flight_.find(request.session);
  if (in_flight != in_flight_.end()) {
    // A retry of the request in flight: do not order it again, but make sure this
    // client gets the reply when it commits. (R#8)
    if (in_flight->second == request.request) reply_to_[request.session] = client;
    return;  // a newer request while one is in flight breaks the client contract: drop
  }
  if (!state_machine_.valid(request.operation)) {
    refusal.status = ReplyStatus::invalid;
    return reply(client, std::move(refusal));
  }
  in_flight_[request.session] = request.request;
  reply_to_[request.session] = client;
  queue_.push_back(Queued{client, std::move(request)});
}

void Replica::flush() {
  if (status_ == Status::normal && is_primary()) prepare_batch();
}

void Replica::prepare_batch() {
  Bytes body;
  while (!queue_.empty() && op().value() - commit_.value() < config_.pipeline_max) {
    // Take as many queued requests as the batch bounds allow.
    std::size_t count = 0;
    std::size_t bytes = sizeof(std::uint32_t);
    for (const Queued& q : queue_) {
      const std::size_t size = BatchWriter::item_size(q.request.operation);
      if (count == config_.batch_max_requests ||
          (count > 0 && bytes + size > config_.batch_max_bytes)) {
        break;
      }
      bytes += size;
      ++count;
    }
    if (!journal_.can_append(bytes)) break;  // the ring waits for the next checkpoint
    body.reserve(bytes);  // moved into the Prepare below: a fresh buffer each time
    BatchWriter batch(body);
    for (std::size_t i = 0; i < count; ++i) {
      const Request& r = queue_.front().request;
      batch.add(r.session, r.request, r.operation);
      queue_.pop_front();
    }
    VSR_ASSERT(body.size() == bytes);

    Entry entry;
    entry.header.cluster = config_.cluster;
    entry.header.view = view_;
    entry.header.op = op().next();
    entry.header.parent = log().head_checksum();
    entry.header.seal(body);
    entry.body = std::move(body);
    journal_.append(entry.header, entry.body);
    fan_out(Prepare{view_, commit_, std::move(entry), config_.self}, count);
    ticks_since_prepare_ = 0;
    try_commit();  // a cluster of one commits at once
  }
}

std::uint32_t Replica::backups_for_new_entry() const {
  // A new entry of ours counts at once, unless it must be synced first.
  return backups_needed() + (config_.self_durability_reported ? 1 : 0);
}

void Replica::fan_out(Prepare prepare, std::size_t requests) {
  const OpNumber n = prepare.entry.header.op;
  VSR_ASSERT(n == op());
  const std::uint32_t backups = config_.replica_count - 1;
  const std::uint32_t team = std::min(backups_for_new_entry(), backups);
  if (config_.prepare_fanout == ReplicaConfig::PrepareFanout::all || team == backups ||
      requests > config_.quorum_first_requests_max) {
    catch_up_backups(n.prev());  // none when every Prepare went to everyone
    sent_.fill(n);
    return broadcast(std::move(prepare));
  }
  // The backups that will complete the quorum soonest: not reported dead, acked
  // furthest, then the previous team (a held-back backup that caught up and acked is
  // napping: handing it the team on a tie would cost a tick), then in id order after
  // ours. A team member that stops acking stalls the commit for one or two ticks
  // (primary_tick()), after which the others' acks make them the team.
  std::array<ReplicaId, kMaxReplicas> order{};
  std::size_t count = 0;
  for (std::uint32_t k = 1; k < config_.replica_count; ++k)
    order[count++] = static_cast<ReplicaId>((config_.self + k) % config_.replica_count);
  std::stable_sort(order.begin(), order.begin() + count, [&](ReplicaId a, ReplicaId b) {
    if (reported_down_.test(a) != reported_down_.test(b)) return !reported_down_.test(a);
    if (acked_[a] != acked_[b]) return acked_[a] > acked_[b];
    return team_.test(a) && !team_.test(b);
  });
  team_.reset();
  for (std::uint32_t k = 0; k < team; ++k) {
    team_.set(order[k]);
    send_prepares_through(order[k], n, k + 1 == team ? &prepare : nullptr);
  }
}

void Replica::send_prepares_through(ReplicaId r, OpNumber through, Prepare* last) {
  VSR_ASSERT(r != config_.self && through <= op());
  for (OpNumber o = sent_[r].next(); o <= through; o = o.next()) {
    if (last != nullptr && o == last->entry.header.op) {
      send(r, std::move(*last));
    } else {
      // Compacted into our checkpoint: the backup's gap makes it ask for state.
      if (auto prepare = prepare_from_log(o)) send(r, std::move(*prepare));
    }
  }
  sent_[r] = std::max(sent_[r], through);
}

std::optional<Prepare> Replica::prepare_from_log(OpNumber o) const {
  const auto entry = log().entry(o);
  if (!entry) return std::nullopt;
  return Prepare{view_, commit_,
                 Entry{entry->header, Bytes(entry->body.begin(), entry->body.end())}, config_.self};
}

void Replica::catch_up_backups(OpNumber through) {
  for (ReplicaId r = 0; r < config_.replica_count; ++r) {
    if (r != config_.self && sent_[r] < through) send_prepares_through(r, through);
  }
}

void Replica::on_prepare(const Prepare& m) {
  if (status_ == Status::recovering) return;
  if (m.view < view_) return;  // stale sender
  const EntryHeader& h = m.entry.header;
  if (h.cluster != config_.cluster || !h.header_valid() || !h.body_valid(m.entry.body)) return;
  if (!accepts_sender(config_, m.replica, primary_of(m.view))) return;
  if (m.view > view_) {
#ifdef VSR_TEST_BUGS
    if (config_.bugs.ack_conflicting_entry) {
      // The reviewed code adopted the newer view at once, keeping its log.
      view_ = m.view;
      last_normal_view_ = m.view;
      status_ = Status::normal;
      reset_view_state();
      journal_.persist_view(view_, last_normal_view_, commit_);
    } else {
      return learn_newer_view(m.view);
    }
#else
    // A higher view: move to it before acting on anything in it. (VRR 5.2)
    return learn_newer_view(m.view);
#endif
  }
  if (status_ == Status::state_transfer) {
    ticks_since_primary_ = 0;
    return;
  }
  if (is_primary()) return;  // a Prepare of our own view from another replica
  if (status_ == Status::view_change) {
    // primary(view) is normal in our view: we missed its StartView.
    status_ = Status::state_transfer;
    reset_view_state();
    return request_state();
  }
  ticks_since_primary_ = 0;
  commit_max_ = std::max(commit_max_, m.commit);
  append_prepare(m);
  // Prepares that arrived ahead of a gap now chain on.
  while (!future_.empty() && future_.begin()->first <= op().next()) {
    auto node = future_.extract(future_.begin());
    if (node.key() == op().next()) append_prepare(node.mapped());
  }
  if (future_.empty()) gap_ticks_ = 0;
  commit_through(std::min(commit_max_, op()));
}

void Replica::append_prepare(const Prepare& m) {
  const EntryHeader& h = m.entry.header;
  const OpNumber n = h.op;
  if (n <= op()) {
    // Normal in this view, our log is a prefix of the primary's: when we hold n
    // identically (or it is inside our checkpoint, so committed), we vouch for our
    // whole log. That is what a primary that restarted with an older commit number
    // needs to commit again. (R#7: an ack of op covers everything below it.)
    if (n <= journal_.checkpoint_op()) return send_prepare_ok(op());
    const auto held = log().checksum_at(n);
    bool identical = held == h.checksum;
#ifdef VSR_TEST_BUGS
    if (config_.bugs.ack_conflicting_entry) return send_prepare_ok(n);
#endif
    // Never acknowledge an entry we do not hold identically. (R#1)
    if (identical) return send_prepare_ok(op());
    // A different entry at n: the primary's log wins over our uncommitted suffix if
    // its entry chains onto ours at n - 1; otherwise transfer state. (R#4)
    if (n > commit_ && log().checksum_at(n.prev()) == h.parent) {
      journal_.replace_suffix(n.prev(), std::span(&m.entry, 1), view_, last_normal_view_, commit_);
      return send_prepare_ok(n);
    }
    return request_state();
  }
  if (n == op().next()) {
    if (h.parent != log().head_checksum()) return request_state();  // our tail is not the primary's
    if (!journal_.can_append(h.body_size)) return;  // no ack: the primary resends after our checkpoint
    journal_.append(h, m.entry.body);
    return send_prepare_ok(n);
  }
  // A gap: keep the Prepare briefly; if the gap stays, GetState. (R#4)
  if (future_.size() < 2 * config_.pipeline_max) future_.emplace(n, m);
}

void Replica::send_prepare_ok(OpNumber op) {
  // A replica holding a faulty entry acknowledges nothing until it is repaired.
  if (!holds_whole_log()) return;
  const auto checksum = log().checksum_at(op);
  VSR_ASSERT(checksum.has_value());
  // An ack of op covers every op below it (R#7): one replaces the previous ack still
  // waiting in the output, so a backup that took many Prepares in one step (held-back
  // ones arriving together, a busy pipeline) sends the primary one ack, not many.
  if (!output_.messages.empty()) {
    Envelope& last = output_.messages.back();
    auto* previous = std::get_if<PrepareOk>(&last.message);
    if (previous != nullptr && last.to == primary_of(view_) && previous->view == view_ &&
        previous->op < op) {
      *previous = PrepareOk{view_, op, *checksum, config_.self};
      return;
    }
  }
  send(primary_of(view_), PrepareOk{view_, op, *checksum, config_.self});
}

void Replica::on_prepare_ok(const PrepareOk& m) {
  // Acks are keyed by (view, op): an ack from another view never counts. (R#7)
  if (status_ != Status::normal || !is_primary() || m.view != view_) return;
  if (m.op > op()) return;
  if (log().checksum_at(m.op) != m.checksum) return;
  acked_[m.replica] = std::max(acked_[m.replica], m.op);
  reported_down_.reset(m.replica);  // it is back (a restarted replica acks again)
  try_commit();
}

std::uint32_t Replica::backups_needed() const {
#ifdef VSR_TEST_BUGS
  if (config_.bugs.quorum_from_connected) {
    // The reviewed code sized its quorum from the peers it knew to be connected.
    std::uint32_t connected = 1;
    for (ReplicaId r = 0; r < config_.replica_count; ++r) {
      if (r != config_.self && last_heard_[r] + config_.view_change_timeout_ticks > now_ &&
          last_heard_[r] != 0) {
        ++connected;
      }
    }
    return connected / 2;
  }
#endif
  // Every quorum is f+1 of the configured N, counting the primary. (R#3)
  return config_.f();
}

OpNumber Replica::self_acked() const {
  if (!config_.self_durability_reported) return op();
  if (durable_rewrites_ != journal_.rewrites()) return OpNumber(0);
  return std::min(durable_op_, op());
}

void Replica::on_durable(OpNumber op, std::uint64_t rewrites) {
  if (rewrites != journal_.rewrites()) return;  // the log changed since that sync began
  if (durable_rewrites_ != rewrites) {
    durable_rewrites_ = rewrites;
    durable_op_ = OpNumber(0);
  }
  durable_op_ = std::max(durable_op_, op);
  if (status_ == Status::normal && is_primary()) try_commit();
}

bool Replica::wants_durable() const {
  if (!config_.self_durability_reported || status_ != Status::normal || !is_primary()) return false;
  if (self_acked() >= op()) return false;
  if (commit_stalled_ticks_ >= 2) return true;
  std::uint32_t keeping_up = 0;
  for (ReplicaId r = 0; r < config_.replica_count; ++r) {
    if (r != config_.self && acked_[r] >= commit_ && !reported_down_.test(r)) ++keeping_up;
  }
  return keeping_up < config_.quorum();
}

void Replica::try_commit() {
  // The primary's own copy is one vote: an acknowledgement by f backups completes the
  // quorum of f+1 when the primary's copy counts, or f+1 backups when it does not yet.
  const std::uint32_t needed = backups_needed();
  // On the stack: this runs for every PrepareOk.
  std::array<OpNumber, kMaxReplicas> votes{};
  std::size_t count = 0;
  votes[count++] = self_acked();
  for (ReplicaId r = 0; r < config_.replica_count; ++r) {
    if (r != config_.self) votes[count++] = acked_[r];
  }
  VSR_ASSERT(needed < count);
  // Insertion sort, descending: at most 7 elements.
  for (std::size_t i = 1; i < count; ++i) {
    for (std::size_t j = i; j > 0 && votes[j - 1] < votes[j]; --j)
      std::swap(votes[j - 1], votes[j]);
  }
  // The (needed+1)-th highest vote: held by needed+1 replicas. With the primary's copy
  // counting at once (self_acked() == op(), the highest), that is the needed-th highest
  // backup ack, as VRR has it.
  const OpNumber target = std::min(votes[needed], op());
  // An ack for n says the replica holds every entry up to n (backups append only
  // contiguously and verify the chain), so n acked by a quorum commits everything
  // below n as well. (R#7)
  if (target > commit_) {
    commit_through(target);
    catch_up_backups(commit_);  // the Prepares held back (quorum_first), now committed
  }
}

void Replica::on_commit(const Commit& m) {
  if (status_ == Status::recovering || m.view < view_) return;
  if (!accepts_sender(config_, m.replica, primary_of(m.view))) return;
  if (m.view > view_) return learn_newer_view(m.view);
  if (status_ == Status::state_transfer) {
    ticks_since_primary_ = 0;
    return;
  }
  if (is_primary()) return;
  if (status_ == Status::view_change) {
    status_ = Status::state_transfer;
    reset_view_state();
    return request_state();
  }
  ticks_since_primary_ = 0;
  commit_max_ = std::max(commit_max_, m.commit);
  commit_through(std::min(commit_max_, op()));
}

void Replica::commit_through(OpNumber target) {
  target = std::min(target, op());
  while (commit_ < target) {
    const auto entry = log().entry(commit_.next());
    if (!entry) break;  // faulty: wait for its repair
    execute(*entry);
    commit_ = commit_.next();
  }
  maybe_checkpoint();
}

void Replica::execute(const journal::EntryView& entry) {
  const bool replies = status_ == Status::normal && is_primary();
  Bytes result;
  const bool ok = for_each_item(entry.body, [&](const BatchItem& item) {
    if (item.session.value() == 0) {
      const SessionId session = table_.register_session();
      if (!replies) return;
      auto it = register_reply_to_.find(item.request.value());
      if (it == register_reply_to_.end()) return;
      result.clear();
      Writer(result).put(session.value());
      reply(it->second, Reply{view_, session, item.request, ReplyStatus::ok, result});
      register_reply_to_.erase(it);
      return;
    }
    Reply r{view_, item.session, item.request, ReplyStatus::ok, {}};
    const ClientTable::Session* session = table_.find(item.session);
    if (session == nullptr) {
      r.status = ReplyStatus::session_evicted;
    } else if (item.request <= session->request) {
      // Ordered twice (a retry re-proposed after a view change): executed once.
      if (item.request < session->request) return;
      if (replies) r.result = session->result;
    } else {
      result.clear();
      state_machine_.apply(item.operation, result);
      VSR_ASSERT(result.size() <= limits::kResultBytes);
      table_.record(item.session, item.request, result);
      if (replies) r.result = result;  // a backup replies to no one: no copy
    }
    if (!replies) return;
    auto to = reply_to_.find(item.session);
    if (to == reply_to_.end()) return;
    reply(to->second, std::move(r));
    auto in_flight = in_flight_.find(item.session);
    if (in_flight != in_flight_.end() && in_flight->second <= item.request) {
      in_flight_.erase(in_flight);
      reply_to_.erase(to);
    }
  });
  VSR_ASSERT_MSG(ok, "a committed entry's body does not decode");
}

void Replica::primary_tick() {
  try_commit();  // e.g. after a restart, a cluster of one commits what it holds
  const bool stalled = commit_ == commit_at_last_tick_ && commit_ < op();
  commit_stalled_ticks_ = stalled ? commit_stalled_ticks_ + 1 : 0;
  commit_at_last_tick_ = commit_;
  // A team member that went quiet stalls the commit for a tick or two at most: then
  // every backup gets what was held back, and the acks that come decide the next team.
  // (Not at every tick: a backup that only ever gets committed Prepares may sleep.)
  if (stalled) catch_up_backups(op());
  ++ticks_since_prepare_;
  if (++ticks_since_retry_ >= config_.prepare_retry_ticks) {
    ticks_since_retry_ = 0;
    // Resend what a backup has not acknowledged (messages may be lost).
    for (OpNumber o = commit_.next(); o <= op(); o = o.next()) {
      const auto prepare = prepare_from_log(o);
      if (!prepare) break;
      for (ReplicaId r = 0; r < config_.replica_count; ++r) {
        if (r == config_.self || acked_[r] >= o) continue;
        send(r, *prepare);
        sent_[r] = std::max(sent_[r], o);
        ticks_since_prepare_ = 0;
      }
    }
  }
  if (ticks_since_prepare_ >= config_.heartbeat_ticks) {
    broadcast(Commit{view_, commit_, config_.self});
    ticks_since_prepare_ = 0;
  }
}

void Replica::backup_tick() {
  if (++ticks_since_primary_ >= view_change_timeout_)
    return start_view_change(view_.next(), ViewChangeCause::primary_silent);
  if (!future_.empty() || commit_max_ > op()) {
    // Behind in the same view: GetState from our op. (VRR 5.2)
    if (++gap_ticks_ >= config_.gap_wait_ticks) {
      gap_ticks_ = 0;
      send(primary_of(view_), GetState{view_, op(), false, config_.self});
    }
  } else {
    gap_ticks_ = 0;
  }
}

}  // namespace vsr
