#include "client/src/reply_handling.h"

#include <string>
#include <utility>

#include "client/src/retry_policy.h"
#include "common/assert.h"

namespace vsr::client::detail {

namespace {

// not_primary names the refusing replica's view; its primary is where to go next.
ReplyAction redirect(const Reply& reply, std::uint32_t from, std::uint32_t replica_count) {
  ReplyAction action;
  action.target = primary_of(reply.view, replica_count);
  // A replica that names itself is the primary-to-be of a view not yet started:
  // resending at once would only flood it while the view change finishes.
  action.kind = action.target == from ? ReplyAction::Kind::pause : ReplyAction::Kind::resend;
  return action;
}

ReplyAction pause_at(std::uint32_t from) {
  ReplyAction action;
  action.kind = ReplyAction::Kind::pause;
  action.target = from;
  return action;
}

ReplyAction complete(Status status, std::string message) {
  ReplyAction action;
  action.kind = ReplyAction::Kind::complete;
  action.result.status = status;
  action.result.message = std::move(message);
  return action;
}

}  // namespace

Result result_of(OpKind kind, const kv::Result& result) {
  Result out;
  switch (result.status) {
    case kv::ResultStatus::ok:
      out.status = Status::ok;
      // Only a get's value is the caller's business; others carry none.
      if (kind == OpKind::get) out.value = result.value.value_or(std::string());
      break;
    case kv::ResultStatus::not_found:
      out.status = Status::not_found;
      out.message = "the key does not exist";
      break;
    case kv::ResultStatus::cas_mismatch:
      out.status = Status::cas_mismatch;
      out.value = result.value;
      out.message = result.value ? "the key holds another value" : "the key does not exist";
      break;
    case kv::ResultStatus::too_large:
      out.status = Status::too_large;
      out.message =
          "the store refused it: the value would exceed 16384 bytes, or the store is full";
      break;
  }
  return out;
}

ReplyAction operation_reply(const Reply& reply, OpKind kind, std::uint32_t from,
                            std::uint32_t replica_count) {
  VSR_ASSERT(from < replica_count);
  switch (reply.status) {
    case ReplyStatus::ok: {
      const auto result = kv::decode_result(reply.result);
      // Executed, but unreadable: keep asking (the primary resends its cached reply);
      // if no readable answer comes the operation times out, which is the truth.
      if (!result) return ReplyAction{};
      ReplyAction action;
      action.kind = ReplyAction::Kind::complete;
      action.result = result_of(kind, *result);
      return action;
    }
    case ReplyStatus::not_primary:
      return redirect(reply, from, replica_count);
    case ReplyStatus::busy:
      return pause_at(from);
    case ReplyStatus::session_evicted:
      return complete(Status::session_evicted,
                      "the cluster evicted this client's session (too many clients): the "
                      "operation may or may not have happened; the next one registers a new "
                      "session");
    case ReplyStatus::invalid:
      return complete(Status::invalid_argument,
                      "the replica refused the operation as malformed (it was not executed)");
  }
  return ReplyAction{};
}

ReplyAction registration_reply(const Reply& reply, std::uint32_t from,
                               std::uint32_t replica_count) {
  VSR_ASSERT(from < replica_count);
  switch (reply.status) {
    case ReplyStatus::ok: {
      Reader reader(reply.result);
      const SessionId session(reader.get<std::uint64_t>());
      // The id rides both in `result` and in `session`; they must agree.
      if (!reader.done() || session.value() == 0 || session != reply.session) return {};
      ReplyAction action;
      action.kind = ReplyAction::Kind::registered;
      action.session = session;
      return action;
    }
    case ReplyStatus::not_primary:
      return redirect(reply, from, replica_count);
    case ReplyStatus::busy:
    case ReplyStatus::invalid:  // the primary's table of pending registrations is full
      return pause_at(from);
    case ReplyStatus::session_evicted:
      return {};  // not an answer to a registration
  }
  return ReplyAction{};
}

}  // namespace vsr::client::detail
