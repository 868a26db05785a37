#include "replica/process/event_loop.h"

#include <algorithm>
#include <utility>

#include "common/assert.h"
#include "replica/core/codec.h"

namespace vsr::process {

EventLoop::EventLoop(const LoopOptions& options, shm::Segment& segment, shm::ReplicaPort& port,
                     Replica& replica, std::function<void()> sync,
                     std::function<std::uint64_t()> state_digest,
                     std::function<bool()> superblock_pending, BackgroundSync* background)
    : options_(options),
      segment_(segment),
      port_(port),
      replica_(replica),
      sync_(std::move(sync)),
      state_digest_(std::move(state_digest)),
      superblock_pending_(std::move(superblock_pending)),
      background_(background),
      ticks_(
          options.tick,
          options.max_ticks_replayed + static_cast<std::uint32_t>(options.idle_wait / options.tick),
          std::chrono::steady_clock::now()),
      down_seen_(segment.replica_count(), 0),
      wait_mode_(options.idle_after) {
  // Only a core that waits for on_durable() may have its log synced in the background.
  // The fast path trusts superblock_pending to say whether the view is durable yet.
  VSR_ASSERT(background_ == nullptr ||
             (options_.sync_each_batch && replica_.config().self_durability_reported &&
              superblock_pending_));
  // A background sync finishing is work for the wait (the thread rings our doorbell
  // after it publishes).
  if (background_ != nullptr) {
    port_.set_local_work(
        [](const void* context) {
          const auto* loop = static_cast<const EventLoop*>(context);
          return loop->background_->completed_sequence() != loop->reported_sequence_;
        },
        this);
  }
  // Deaths the supervisor saw before we started are no news.
  for (std::uint32_t r = 0; r < segment_.replica_count(); ++r) {
    down_seen_[r] = segment_.replica_down_count(r);
  }
  publish_status(true, std::chrono::steady_clock::now());
}

EventLoop::~EventLoop() {
  port_.set_local_work(nullptr, nullptr);
}

void EventLoop::on_frame(shm::Endpoint from, std::uint16_t kind, ByteView body) {
  const auto message_kind = static_cast<MessageKind>(kind);
  turn_work_.note(work_of_received(message_kind));  // a Prepare: once decoded, below
  if (from.is_client()) {
    auto request = message_kind == MessageKind::request ? decode_request(body) : std::nullopt;
    if (!request) {
      ++counters_.undecodable;
      return;
    }
    ++counters_.requests_in;
    replica_.on_request(client_id(from), std::move(*request));
    return;
  }
  auto message = decode_message(message_kind, body);
  if (!message) {
    ++counters_.undecodable;
    return;
  }
  // The ring a frame came on names its sender; a message claiming another is dropped.
  if (sender_of(*message) != from.index) {
    ++counters_.spoofed;
    return;
  }
  ++counters_.messages_in;
  if (const auto* p = std::get_if<Prepare>(&*message)) turn_work_.note(work_of_prepare(*p));
  replica_.step(*message);
}

void EventLoop::check_hints() {
  for (std::uint32_t r = 0; r < segment_.replica_count(); ++r) {
    const std::uint64_t count = segment_.replica_down_count(r);
    if (count != down_seen_[r]) {
      down_seen_[r] = count;
      replica_.hint_replica_down(static_cast<ReplicaId>(r));
    }
  }
}

void EventLoop::send_message(const Envelope& e) {
  encoded_.clear();
  encode(e.message, encoded_);
  const MessageKind message_kind = kind_of(e.message);
  turn_work_.note(work_of_sent(message_kind));
  const auto kind = static_cast<std::uint16_t>(message_kind);
  const std::uint32_t self = replica_.id();
  for (std::uint32_t to = 0; to < segment_.replica_count(); ++to) {
    if (to == self || (e.to && *e.to != to)) continue;
    port_.send(shm::Endpoint::replica(to), kind, encoded_) ? ++counters_.messages_out
                                                            : ++counters_.dropped_out;
  }
}

void EventLoop::report_durable() {
  if (synced_last_turn_) {
    synced_last_turn_ = false;
    replica_.on_durable(replica_.op(), replica_.journal().rewrites());
  }
  if (background_ == nullptr || background_->completed_sequence() == reported_sequence_) return;
  const BackgroundSync::Mark mark = background_->completed();
  reported_sequence_ = mark.sequence;
  replica_.on_durable(mark.op, mark.rewrites);
  turn_work_.note(TurnWork::protocol);  // a commit may follow, and replies
}

void EventLoop::request_background_sync(std::chrono::steady_clock::time_point now) {
  if (background_ == nullptr || !replica_.is_primary()) return;
  const OpNumber op = replica_.op();
  const std::uint64_t rewrites = replica_.journal().rewrites();
  if (op == requested_op_ && rewrites == requested_rewrites_) return;  // asked already
  // While f+1 backups commit each batch on their own, the primary's flush would only
  // compete with theirs for the device: it syncs when its vote is needed, and now and
  // then so that its log does not lag far behind.
  if (!replica_.wants_durable() && now - last_request_ < options_.lazy_sync_interval) return;
  requested_op_ = op;
  requested_rewrites_ = rewrites;
  last_request_ = now;
  background_->request(op, rewrites);
  ++counters_.background_requests;
}

void EventLoop::sync_now() {
  // A sync here must not report durable what a background sync still writes. (An
  // fdatasync also waits for writeback already under way; draining says so plainly.)
  if (background_ != nullptr) background_->drain();
  sync_();
  ++counters_.syncs;
  if (background_ != nullptr) {
    synced_last_turn_ = true;  // reported at the next turn (the output is being sent)
    requested_op_ = replica_.op();
    requested_rewrites_ = replica_.journal().rewrites();
  }
}

void EventLoop::send_output() {
  Output& out = replica_.output();
  if (out.empty()) {
    // Nothing to send, but a changed superblock (a new view, the end of installing a
    // peer's state) is synced now, not with some later batch: until then a power cut
    // would take it (and a replica cut in the middle of an install loses its state).
    if (options_.sync_each_batch && superblock_pending()) sync_now();
    return;
  }
  // The primary's usual turn, when its log is synced in the background: what it sends
  // now vouches for nothing in its own log (Output::vouches_for_own_log). The view it
  // carries is durable unless the superblock is pending.
  if (background_ != nullptr && replica_.is_primary() &&
      !superblock_pending() && !out.vouches_for_own_log()) {
    send_replies(out);
    for (const Envelope& e : out.messages)
      send_message(e);
    out.clear();
    return;
  }
  std::size_t sent_early = 0;
#ifdef VSR_TEST_BUGS
  if (options_.send_before_sync) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sync_ >= std::chrono::milliseconds(200)) {
      last_sync_ = now;
      sync_();
    }
  } else
#endif
  // Everything these messages depend on is in the journal; make it durable first.
  if (options_.sync_each_batch) {
    // Except the primary's Prepares, when only log entries wait for the sync: the
    // backups then write and sync their copy while the primary syncs its own, and
    // the two device flushes overlap instead of adding up. Safe because a Prepare
    // claims nothing durable: the primary's own vote for the entry counts only in a
    // later turn (at a PrepareOk), so after this turn's sync, as does every reply and
    // every other message below. The view in the Prepare is durable already (or the
    // superblock would be pending); a power cut loses at most entries that no quorum
    // counted the primary for.
    if (superblock_pending_ && replica_.is_primary() && !superblock_pending_()) {
      for (const Envelope& e : out.messages) {
        if (!std::holds_alternative<Prepare>(e.message)) break;  // keep the order
        send_message(e);
        ++sent_early;
      }
      if (sent_early > 0) {
        port_.flush();
        counters_.prepares_before_sync += sent_early;
      }
    }
    sync_now();
  }
  send_replies(out);
  for (std::size_t i = sent_early; i < out.messages.size(); ++i)
    send_message(out.messages[i]);
  out.clear();
}

void EventLoop::send_replies(const Output& out) {
  if (out.replies.empty()) return;
  for (const ClientReply& r : out.replies) {
    encoded_.clear();
    encode(r.reply, encoded_);
    port_.send(client_endpoint(r.client), static_cast<std::uint16_t>(MessageKind::reply), encoded_)
        ? ++counters_.replies_out
        : ++counters_.dropped_out;
  }
  // Out before the messages are encoded: a client waits on each of these, while a
  // message after a reply is at most a Prepare held back for a backup nobody waits on.
  port_.flush();
}

void EventLoop::publish_status(bool force, std::chrono::steady_clock::time_point now) {
  shm::StatusUpdate s;
  s.pid = port_.pid();  // cached: publish_status runs every turn
  s.incarnation = port_.incarnation();
  s.role = static_cast<std::uint32_t>(replica_.is_primary() ? Role::primary : Role::backup);
  s.status = static_cast<std::uint32_t>(replica_.status());
  s.view = replica_.view().value();
  s.op = replica_.op().value();
  s.commit = replica_.commit().value();
  if (s.commit != last_status_.commit || force) {
    s.commit_checksum = replica_.journal().log().checksum_at(replica_.commit()).value_or(0);
    s.state_digest = state_digest_();
  } else {
    s.commit_checksum = last_status_.commit_checksum;
    s.state_digest = last_status_.state_digest;
  }
  const bool changed = s.role != last_status_.role || s.status != last_status_.status ||
                       s.view != last_status_.view || s.op != last_status_.op ||
                       s.commit != last_status_.commit;
  if (changed && (s.status != last_status_.status || s.view != last_status_.view)) {
    log_transition();
  }
  if (force || changed) {
    port_.status().publish(s);
    last_status_ = s;
    last_beat_ = now;
  } else if (now - last_beat_ >= std::chrono::milliseconds(100)) {
    port_.status().beat();
    last_beat_ = now;
  }
}

void EventLoop::log_transition() const {
  if (!options_.log) return;
  std::string line = "view " + std::to_string(replica_.view().value()) + ": " +
                     std::string(to_string(replica_.status()));
  switch (replica_.status()) {
    case Status::normal:
      line += replica_.is_primary()
                  ? ", primary"
                  : ", backup of " + std::to_string(replica_.primary_of(replica_.view()));
      break;
    case Status::view_change:
      line += " (" + std::string(to_string(replica_.view_change_cause())) + ")";
      break;
    case Status::recovering:
    case Status::state_transfer:
      break;
  }
  line += "; op " + std::to_string(replica_.op().value()) + ", commit " +
          std::to_string(replica_.commit().value());
  options_.log(line);
}

void EventLoop::note_gap(const TickSchedule::Due& due) {
  counters_.ticks_dropped += due.dropped;
  const auto gap = options_.tick * (due.dropped + due.ticks);  // within a tick
  if (options_.log && gap >= options_.gap_worth_logging) {
    options_.log(
        "the loop did not run for " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(gap).count()) +
        " ms (paused, or starved of a core); that time is not counted toward timeouts");
  }
}

std::size_t EventLoop::turn(std::chrono::steady_clock::time_point now) {
  ++counters_.turns;
  report_durable();
  const std::size_t frames =
      port_.poll([this](shm::Endpoint from, std::uint16_t kind, ByteView body) {
        on_frame(from, kind, body);
      });
  replica_.flush();
  check_hints();
  const TickSchedule::Due due = ticks_.take(now);
  for (std::uint32_t i = 0; i < due.ticks; ++i)
    replica_.tick();
  if (due.ticks > 0) replica_.flush();
  if (due.dropped > 0) note_gap(due);
  send_output();
  request_background_sync(now);
  port_.flush();
  publish_status(false, now);
  // One clock reading per turn, not per frame: `now` is when the turn began.
  wait_mode_.after_turn(now, turn_work_.protocol, turn_work_.deferred);
  turn_work_ = TurnWorkSeen{};
  return frames;
}

void EventLoop::run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    const auto now = std::chrono::steady_clock::now();
    // Busy, or a sync to report: go round again at once.
    if (turn(now) > 0 || synced_last_turn_) continue;
    auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(ticks_.next() - now);
    switch (wait_mode_.mode(now)) {
      case WaitMode::Mode::nap:
        if (timeout.count() > 0) port_.nap(timeout);
        break;
      case WaitMode::Mode::yield_then_sleep:
        if (timeout.count() > 0) port_.wait(timeout, true);
        break;
      case WaitMode::Mode::sleep:
        port_.wait(std::max(timeout, options_.idle_wait), false);
        break;
    }
  }
  send_output();
  port_.flush();
  sync_();
}

}  // namespace vsr::process
