#include "client/src/engine.h"

#include <algorithm>
#include <stdexcept>

#include "client/src/operation.h"
#include "client/src/options_check.h"
#include "client/src/primary_hint.h"
#include "client/src/reply_handling.h"
#include "client/src/retry_policy.h"
#include "common/assert.h"
#include "replica/core/codec.h"

namespace vsr::client::detail {

namespace {

constexpr auto kRequestKind = static_cast<std::uint16_t>(MessageKind::request);
constexpr auto kReplyKind = static_cast<std::uint16_t>(MessageKind::reply);

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

Result failure(Status status, std::string message) {
  Result r;
  r.status = status;
  r.message = std::move(message);
  return r;
}

std::uint64_t random_seed() {
  // Nonces name registrations at the primary across every client of the cluster, so
  // each engine draws them from its own seed out of the OS's entropy.
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device();
}

}  // namespace

Engine::Engine(Options options, std::size_t sessions)
    : options_(std::move(options)), sessions_(sessions), random_(random_seed()) {
  require_valid(options_);
  if (sessions < 1 || sessions > kMaxSessions) {
    throw std::invalid_argument("vsr::client: sessions is " + std::to_string(sessions) +
                                "; it must be 1 to " + std::to_string(kMaxSessions));
  }
  // Reversed, so that free_.back() hands out session 0 first.
  for (std::size_t i = sessions; i > 0; --i) {
    free_.push_back(i - 1);
  }
}

Engine::~Engine() = default;

// ---- The public operations ----

std::optional<Ticket> Engine::submit(Op op, Timeout timeout) {
  const auto now = Clock::now();
  Job job;
  job.ticket = Ticket{next_ticket_};
  job.kind = op.kind;
  job.timeout = timeout.value_or(options_.timeout);
  std::string invalid = check_op(op);
  if (invalid.empty()) invalid = check_timeout(job.timeout);
  // Only a checked timeout is added to the clock (an absurd one would overflow it).
  job.deadline = invalid.empty() ? now + job.timeout : now;
  const Ticket ticket = job.ticket;
  if (!invalid.empty()) {
    // Refused before anything is sent: reported by the next poll like any completion.
    ++next_ticket_;
    ++outstanding_;
    complete(std::move(job), failure(Status::invalid_argument, invalid + " (nothing was sent)"));
    return ticket;
  }
  if (queue_.size() >= options_.queue_max) return std::nullopt;
  ++next_ticket_;
  ++outstanding_;
  job.operation = encode_op(op);
  queue_expiry_ = std::min(queue_expiry_, job.deadline);
  queue_.push_back(std::move(job));
  return ticket;
}

std::size_t Engine::poll(std::vector<Completion>& out, std::chrono::microseconds wait) {
  const auto start = Clock::now();
  drive([this] { return !done_.empty() || outstanding_ == 0; }, start + wait);
  const std::size_t count = done_.size();
  VSR_ASSERT(count <= outstanding_);
  out.insert(out.end(), std::make_move_iterator(done_.begin()),
             std::make_move_iterator(done_.end()));
  done_.clear();
  outstanding_ -= count;
  return count;
}

Result Engine::run(Op op, Timeout timeout) {
  VSR_ASSERT_MSG(outstanding_ == 0, "Client runs one operation at a time");
  const auto start = Clock::now();
  const auto ticket = submit(std::move(op), timeout);
  VSR_ASSERT(ticket.has_value());
  // The operation's own deadline ends it; the margin only bounds this loop should that
  // ever fail.
  const auto end =
      start +
      std::clamp(timeout.value_or(options_.timeout), std::chrono::milliseconds(0), kMaxTimeout) +
      std::chrono::seconds(1);
  drive([this] { return !done_.empty(); }, end);
  VSR_ASSERT_MSG(done_.size() == 1 && done_.front().ticket == *ticket,
                 "an operation outlived its deadline");
  Result result = std::move(done_.front().result);
  done_.clear();
  outstanding_ = 0;
  return result;
}

Result Engine::connect() {
  const auto now = Clock::now();
  std::string error;
  if (!ensure_connected(error)) return failure(Status::unavailable, error);
  const auto deadline = now + options_.timeout;
  std::vector<std::size_t> keep;
  std::size_t registering = 0;
  for (const std::size_t index : free_) {
    Session& s = sessions_[index];
    if (s.phase != Session::Phase::unregistered) {
      keep.push_back(index);
      continue;
    }
    s.deadline = deadline;
    ++busy_;
    ++registering;
    start_registration(index, now);
  }
  free_ = std::move(keep);
  if (registering > 0) connection_->port().flush();
  const auto unregistered = [this] {
    return static_cast<std::size_t>(
        std::count_if(sessions_.begin(), sessions_.end(), [](const Session& s) {
          return s.phase == Session::Phase::unregistered ||
                 (s.phase == Session::Phase::registering && !s.job);
        }));
  };
  drive([&] { return unregistered() == 0; }, deadline + std::chrono::milliseconds(1));
  if (const std::size_t missing = unregistered(); missing > 0) {
    return failure(Status::unavailable,
                   "cluster '" + options_.cluster + "': " + std::to_string(missing) + " of " +
                       std::to_string(sessions_.size()) +
                       " sessions could not be registered within " + ms(options_.timeout) +
                       ": no primary answered (is a majority of the replicas running? "
                       "`vsr-client status` shows them)");
  }
  return Result{Status::ok, std::nullopt, {}};
}

// ---- The loop ----

template <typename Done>
void Engine::drive(Done&& done, Clock::time_point end) {
  auto now = Clock::now();
  for (;;) {
    step(now);
    if (done() || now >= end) return;
    // Nothing in flight and nothing queued: nothing can change by waiting.
    if (busy_ == 0 && queue_.empty()) return;
    const auto timer = next_timer();
    wait(timer ? std::min(*timer, end) : end, now);
    now = Clock::now();
  }
}

void Engine::step(Clock::time_point now) {
  // Replies first, so that an answer that is already here beats a timer that expired.
  if (connection_) receive(now);
  on_timers(now);
  watch_primary(now);
  dispatch(now);
  if (connection_) {
    connection_->port().flush();
    if (disconnect_wanted_ && busy_ == 0) {
      connection_.reset();
      disconnect_wanted_ = false;
    }
  }
}

void Engine::wait(Clock::time_point until, Clock::time_point now) {
  if (!connection_ || until <= now) return;
  // Rounded up, so that the timer has expired when the wait ends.
  const auto timeout = std::chrono::ceil<std::chrono::microseconds>(until - now);
  connection_->port().wait(timeout);
}

std::optional<Clock::time_point> Engine::next_timer() const {
  std::optional<Clock::time_point> next;
  for (const Session& s : sessions_) {
    if (s.phase != Session::Phase::registering && s.phase != Session::Phase::in_flight) continue;
    const auto deadline = s.job ? s.job->deadline : s.deadline;
    const auto t = std::min(deadline, s.next_send);
    if (!next || t < *next) next = t;
  }
  if (!queue_.empty() && (!next || queue_expiry_ < *next)) next = queue_expiry_;
  if (busy_ > 0 && options_.primary_watch.count() > 0 && (!next || next_watch_ < *next)) {
    next = next_watch_;
  }
  return next;
}

bool Engine::ensure_connected(std::string& error) {
  if (connection_) return true;
  connection_ = Connection::open(options_.cluster, error);
  if (!connection_) return false;
  ++counters_.connects;
  disconnect_wanted_ = false;
  guess_ = board_primary().value_or(0);
  return true;
}

std::optional<std::uint32_t> Engine::board_primary() const {
  const auto boards = connection_->read_boards();
  return choose_primary(boards, monotonic_now_ns(), options_.heartbeat_fresh);
}

bool Engine::cluster_seems_gone() const {
  const auto boards = connection_->read_boards();
  return !any_board_fresh(boards, monotonic_now_ns(), options_.heartbeat_fresh);
}

// ---- Replies ----

void Engine::receive(Clock::time_point now) {
  connection_->port().poll([&](shm::Endpoint from, std::uint16_t kind, ByteView body) {
    if (!from.is_replica() || kind != kReplyKind || from.index >= connection_->replica_count()) {
      ++counters_.undecodable;
      return;
    }
    const auto reply = decode_reply(body);
    if (!reply) {
      ++counters_.undecodable;
      return;
    }
    on_reply(from.index, *reply, now);
  });
}

void Engine::on_reply(std::uint32_t from, const Reply& reply, Clock::time_point now) {
  // An answer to an operation echoes its session and request number...
  if (reply.session.value() != 0) {
    const auto it = by_session_.find(reply.session.value());
    if (it != by_session_.end()) {
      const Session& s = sessions_[it->second];
      if (s.phase == Session::Phase::in_flight && reply.request == s.request) {
        return on_operation_reply(it->second, from, reply, now);
      }
    }
  }
  // ...an answer to a registration echoes its nonce (and names the new session).
  const auto it = by_nonce_.find(reply.request.value());
  if (it != by_nonce_.end() && sessions_[it->second].phase == Session::Phase::registering) {
    return on_registration_reply(it->second, from, reply, now);
  }
  ++counters_.unmatched;
}

void Engine::on_operation_reply(std::size_t index, std::uint32_t from, const Reply& reply,
                                Clock::time_point now) {
  Session& s = sessions_[index];
  ReplyAction action = operation_reply(reply, s.job->kind, from, connection_->replica_count());
  switch (action.kind) {
    case ReplyAction::Kind::complete:
      guess_ = from;  // only the primary of a normal view executes or refuses this way
      if (action.result.status == Status::session_evicted) {
        by_session_.erase(s.id.value());
        s.id = SessionId(0);
        s.request = RequestNumber(0);
        s.phase = Session::Phase::unregistered;
      } else {
        s.phase = Session::Phase::idle;
      }
      return finish(index, std::move(action.result));
    case ReplyAction::Kind::resend:
      return redirect(s, action.target, now);
    case ReplyAction::Kind::pause:
      return pause(s, action.target, now);
    case ReplyAction::Kind::registered:
    case ReplyAction::Kind::ignore:
      ++counters_.undecodable;
      return;
  }
}

void Engine::on_registration_reply(std::size_t index, std::uint32_t from, const Reply& reply,
                                   Clock::time_point now) {
  Session& s = sessions_[index];
  const ReplyAction action = registration_reply(reply, from, connection_->replica_count());
  switch (action.kind) {
    case ReplyAction::Kind::registered:
      ++counters_.registrations;
      by_nonce_.erase(s.nonce);
      s.id = action.session;
      s.request = RequestNumber(0);
      s.pauses = 0;
      by_session_[s.id.value()] = index;
      guess_ = from;
      s.phase = Session::Phase::idle;
      if (s.job) return start_request(index, now);
      return release(index);
    case ReplyAction::Kind::resend:
      return redirect(s, action.target, now);
    case ReplyAction::Kind::pause:
      return pause(s, action.target, now);
    case ReplyAction::Kind::complete:
    case ReplyAction::Kind::ignore:
      ++counters_.undecodable;
      return;
  }
}

// ---- Timers ----

void Engine::on_timers(Clock::time_point now) {
  for (std::size_t index = 0; index < sessions_.size(); ++index) {
    Session& s = sessions_[index];
    if (s.phase != Session::Phase::registering && s.phase != Session::Phase::in_flight) continue;
    const auto deadline = s.job ? s.job->deadline : s.deadline;
    if (now >= deadline) {
      if (s.phase == Session::Phase::registering) {
        // A late reply would register a session nobody uses; the cluster evicts it.
        by_nonce_.erase(s.nonce);
        s.phase = Session::Phase::unregistered;
        if (!s.job) {
          release(index);
          continue;
        }
        finish(index, failure(Status::unavailable,
                              "cluster '" + options_.cluster +
                                  "': no session could be registered within " + ms(s.job->timeout) +
                                  ": no primary answered (is a majority of the replicas running? "
                                  "`vsr-client status` shows them); the operation was not sent"));
        continue;
      }
      const std::uint32_t sends = s.job->sends;
      const auto timeout = s.job->timeout;
      s.phase = Session::Phase::idle;
      if (connection_ && cluster_seems_gone()) disconnect_wanted_ = true;
      finish(index, failure(Status::timed_out,
                            "no reply within " + ms(timeout) + " (" + std::to_string(sends) +
                                " sends): the operation may or may not have happened"));
      continue;
    }
    if (now >= s.next_send && connection_) {
      if (!s.pausing) on_attempt_timeout(s);
      send(s, now);
    }
  }
}

void Engine::on_attempt_timeout(Session& s) {
  ++counters_.attempt_timeouts;
  const std::uint32_t silent = s.target;
  s.target = next_target(silent, board_primary(), connection_->replica_count());
  // Move the shared guess on only if it still names the silent replica: many sessions
  // timing out at once must not each push it one replica further.
  if (guess_ == silent) guess_ = s.target;
}

void Engine::watch_primary(Clock::time_point now) {
  if (!connection_ || busy_ == 0 || options_.primary_watch.count() == 0 || now < next_watch_) {
    return;
  }
  next_watch_ = now + options_.primary_watch;
  const std::optional<std::uint32_t> primary = board_primary();
  if (!primary || primary == watched_primary_) return;
  const bool first = !watched_primary_.has_value();
  watched_primary_ = primary;
  if (first || *primary == guess_) return;
  // A view change happened (the boards name the primary of a higher view): what went to
  // the old primary may be lost with it. Resending is safe: same session and request.
  ++counters_.primary_changes;
  guess_ = *primary;
  for (Session& s : sessions_) {
    if (s.phase != Session::Phase::registering && s.phase != Session::Phase::in_flight) continue;
    if (s.pausing || s.target == *primary) continue;
    s.target = *primary;
    send(s, now);
  }
}

// ---- Sending ----

void Engine::dispatch(Clock::time_point now) {
  expire_queued(now);
  // A connection about to be dropped takes nothing new, so that under steady load the
  // requests in flight drain and the engine can attach afresh.
  if (connection_ && disconnect_wanted_) return;
  while (!queue_.empty() && !free_.empty()) {
    std::string error;
    if (!ensure_connected(error)) {
      // Nothing queued can be sent; say so now rather than at each deadline.
      while (!queue_.empty()) {
        Job job = std::move(queue_.front());
        queue_.pop_front();
        complete(std::move(job),
                 failure(Status::unavailable, error + " (the operation was not sent)"));
      }
      queue_expiry_ = Clock::time_point::max();
      return;
    }
    const std::size_t index = free_.back();
    free_.pop_back();
    ++busy_;
    Session& s = sessions_[index];
    s.job = std::move(queue_.front());
    queue_.pop_front();
    if (s.phase == Session::Phase::idle) {
      start_request(index, now);
    } else {
      VSR_ASSERT(s.phase == Session::Phase::unregistered);
      start_registration(index, now);
    }
  }
  if (queue_.empty()) queue_expiry_ = Clock::time_point::max();
}

void Engine::expire_queued(Clock::time_point now) {
  if (queue_.empty() || now < queue_expiry_) return;
  std::deque<Job> kept;
  queue_expiry_ = Clock::time_point::max();
  for (Job& job : queue_) {
    if (now < job.deadline) {
      queue_expiry_ = std::min(queue_expiry_, job.deadline);
      kept.push_back(std::move(job));
      continue;
    }
    const std::string why = "not sent within " + ms(job.timeout) + ": all " +
                            std::to_string(sessions_.size()) +
                            " sessions were busy with earlier operations";
    complete(std::move(job), failure(Status::unavailable, why));
  }
  queue_ = std::move(kept);
}

void Engine::start_registration(std::size_t index, Clock::time_point now) {
  Session& s = sessions_[index];
  VSR_ASSERT(s.phase == Session::Phase::unregistered);
  // The top bit keeps a nonce apart from any request number a session will reach.
  do {
    s.nonce = random_() | (std::uint64_t{1} << 63);
  } while (by_nonce_.contains(s.nonce));
  by_nonce_[s.nonce] = index;
  s.phase = Session::Phase::registering;
  s.pauses = 0;
  s.frame.clear();
  encode(Request{SessionId(0), RequestNumber(s.nonce), {}}, s.frame);
  s.target = guess_;
  send(s, now);
}

void Engine::start_request(std::size_t index, Clock::time_point now) {
  Session& s = sessions_[index];
  VSR_ASSERT(s.phase == Session::Phase::idle && s.job && s.id.value() != 0);
  s.phase = Session::Phase::in_flight;
  s.request = s.request.next();
  s.pauses = 0;
  s.frame.clear();
  encode_request(s.id, s.request, s.job->operation, s.frame);
  s.target = guess_;
  send(s, now);
}

void Engine::send(Session& s, Clock::time_point now) {
  VSR_ASSERT(connection_ && s.target < connection_->replica_count());
  ++counters_.sends;
  // A refused send (an outbox bound) is left to the attempt timer, as a lost frame is.
  if (!connection_->port().send(s.target, kRequestKind, s.frame)) ++counters_.send_failures;
  // The operation's own sends only (a registration ahead of it is not one of them).
  if (s.phase == Session::Phase::in_flight) {
    // Read the clock here rather than use the loop's `now`: latency is from the send.
    if (s.job->sends == 0) s.job->first_sent = Clock::now();
    ++s.job->sends;
  }
  s.pausing = false;
  s.next_send = now + options_.attempt_timeout;
}

void Engine::redirect(Session& s, std::uint32_t target, Clock::time_point now) {
  ++counters_.redirects;
  s.target = target;
  guess_ = target;
  send(s, now);
}

void Engine::pause(Session& s, std::uint32_t target, Clock::time_point now) {
  ++counters_.pauses;
  s.target = target;
  s.pausing = true;
  s.next_send = now + pause_after(s.pauses, options_);
  ++s.pauses;
}

// ---- Completion ----

void Engine::finish(std::size_t index, Result result) {
  Session& s = sessions_[index];
  VSR_ASSERT(s.job.has_value());
  Job job = std::move(*s.job);
  s.job.reset();
  s.pauses = 0;
  release(index);
  complete(std::move(job), std::move(result));
}

void Engine::complete(Job job, Result result) {
  const auto now = Clock::now();
  Completion c;
  c.ticket = job.ticket;
  c.result = std::move(result);
  c.sends = job.sends;
  if (job.sends > 0) c.latency = now - job.first_sent;
  done_.push_back(std::move(c));
}

void Engine::release(std::size_t index) {
  VSR_ASSERT(busy_ > 0);
  --busy_;
  free_.push_back(index);
}

}  // namespace vsr::client::detail
