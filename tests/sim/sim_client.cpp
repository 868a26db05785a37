#include "tests/sim/sim_client.h"

#include "common/assert.h"

namespace vsr::sim {

SimClient::SimClient(NodeId node, std::uint32_t replica_count, ClientOptions options, Rng rng,
                     check::History& history, std::uint64_t& next_process)
    : node_(node),
      replica_count_(replica_count),
      options_(options),
      rng_(rng),
      history_(history),
      next_process_(next_process) {
  new_identity();
}

void SimClient::new_identity() {
  process_ = check::ProcessId(next_process_++);
  session_ = SessionId(0);
  request_ = RequestNumber(0);
}

check::Stamp SimClient::stamp(std::uint64_t now) const {
  return check::Stamp{check::Time(now), check::Line(0)};
}

Request SimClient::current_request() const {
  if (phase_ == Phase::registering) return Request{SessionId(0), RequestNumber(nonce_), {}};
  Request r{session_, request_, {}};
  kv::encode(operation_, r.operation);
  return r;
}

void SimClient::begin_operation(std::uint64_t now) {
  phase_ = Phase::operation;
  request_ = request_.next();
  operation_ = kv::Operation{};
  operation_.key = "k" + std::to_string(rng_.below(options_.keys));
  // Unique values make every write identifiable in the history.
  const std::string value = std::to_string(process_.value()) + "." + std::to_string(++values_);
  check::Op op;
  switch (rng_.below(5)) {
    case 0:
      operation_.kind = kv::OpKind::get;
      op = check::Op::get(operation_.key);
      break;
    case 1:
      operation_.kind = kv::OpKind::put;
      operation_.value = value;
      op = check::Op::put(operation_.key, value);
      break;
    case 2:
      operation_.kind = kv::OpKind::del;
      op = check::Op::del(operation_.key);
      break;
    case 3: {
      operation_.kind = kv::OpKind::cas;
      // Expect a value this client wrote recently, or one that never existed.
      operation_.expected = rng_.chance(0.7) && values_ > 1
                                ? std::to_string(process_.value()) + "." +
                                      std::to_string(values_ - 1 - rng_.below(2))
                                : "none";
      operation_.value = value;
      op = check::Op::cas(operation_.key, operation_.expected, value);
      break;
    }
    default:
      operation_.kind = kv::OpKind::append;
      operation_.value = "," + value;
      op = check::Op::append(operation_.key, operation_.value);
      break;
  }
  op_id_ = history_.invoke(process_, std::move(op), stamp(now));
}

void SimClient::redirect(ViewNumber view) {
  // Resend at once only when the hint names another replica, so that a cluster in
  // the middle of a view change is not flooded.
  const auto primary = static_cast<std::uint32_t>(view.value() % replica_count_);
  if (primary != target_) resend_now_ = true;
  target_ = primary;
}

void SimClient::give_up(std::uint64_t now) {
  // Timed out: the operation may or may not have happened. As Jepsen does, the
  // client carries on under a new identity.
  history_.complete(op_id_, check::Outcome::info, stamp(now));
  ++indeterminate_;
  phase_ = Phase::idle;
  next_start_ = now + rng_.between(1, options_.think_ticks_max);
  new_identity();
}

void SimClient::on_reply(std::uint64_t now, const Reply& reply) {
  if (phase_ == Phase::idle) return;
  if (phase_ == Phase::registering) {
    if (reply.session.value() == 0 && reply.request.value() == nonce_) {  // refused
      if (reply.status == ReplyStatus::not_primary) redirect(reply.view);
      return;
    }
    if (reply.request.value() != nonce_ || reply.status != ReplyStatus::ok) return;
    Reader r(reply.result);
    const SessionId session(r.get<std::uint64_t>());
    if (!r.done() || session.value() == 0) return;
    session_ = session;
    phase_ = Phase::idle;
    next_start_ = now;
    return;
  }
  if (reply.session != session_ || reply.request != request_) return;  // stale
  switch (reply.status) {
    case ReplyStatus::not_primary:
      return redirect(reply.view);
    case ReplyStatus::busy:
      return;  // the attempt timer resends
    case ReplyStatus::session_evicted:
    case ReplyStatus::invalid:
      // Evicted: an earlier copy of this request may have executed before the
      // eviction, so the outcome is unknown.
      return give_up(now);
    case ReplyStatus::ok:
      break;
  }
  const auto result = kv::decode_result(reply.result);
  VSR_ASSERT_MSG(result.has_value(), "a committed reply does not decode");
  using kv::ResultStatus;
  const check::Stamp at = stamp(now);
  switch (operation_.kind) {
    case kv::OpKind::get:
      VSR_ASSERT(result->status == ResultStatus::ok || result->status == ResultStatus::not_found);
      history_.complete(op_id_, check::Outcome::ok, result->value, at);
      break;
    case kv::OpKind::del:
      history_.complete(op_id_,
                        result->status == ResultStatus::ok ? check::Outcome::ok : check::Outcome::fail,
                        at);
      break;
    case kv::OpKind::cas:
      if (result->status == ResultStatus::ok) {
        history_.complete(op_id_, check::Outcome::ok, at);
      } else if (result->status == ResultStatus::cas_mismatch) {
        history_.complete(op_id_, check::Outcome::fail, result->value, at);
      } else {
        history_.complete(op_id_, check::Outcome::info, at);
      }
      break;
    case kv::OpKind::put:
    case kv::OpKind::append:
      history_.complete(op_id_,
                        result->status == ResultStatus::ok ? check::Outcome::ok : check::Outcome::info,
                        at);
      break;
  }
  ++ok_;
  phase_ = Phase::idle;
  next_start_ = now + rng_.between(0, options_.think_ticks_max);
}

}  // namespace vsr::sim
