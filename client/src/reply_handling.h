// What a reply means for the request it answers: the decisions of the retry protocol,
// as pure functions of the reply (the engine has already matched it to a request).
//
//   ok               the operation executed: complete it with the store's result
//   not_primary      try primary(view) = view mod N: at once if that is another replica,
//                    after a pause if it is the one that refused (it is between views)
//   busy             the primary's queue is full: same replica, after a pause
//   session_evicted  complete with session_evicted (indeterminate); register anew
//   invalid          the replica refused the operation before ordering it
#pragma once

#include <cstdint>

#include "replica/core/kv_operation.h"
#include "replica/core/message.h"
#include "vsr/client.h"

namespace vsr::client::detail {

struct ReplyAction {
  enum class Kind : std::uint8_t {
    complete,    // the operation is done: `result`
    registered,  // registration: the new session is `session`
    resend,      // send the same request to `target` now
    pause,       // send the same request to `target` after a pause
    ignore,      // nothing to learn (e.g. a result that does not decode)
  };
  Kind kind = Kind::ignore;
  Result result;
  SessionId session;
  std::uint32_t target = 0;
};

// A reply to an operation's request (same session and request number), from replica
// `from` of `replica_count`.
ReplyAction operation_reply(const Reply& reply, OpKind kind, std::uint32_t from,
                            std::uint32_t replica_count);

// A reply to a registration (its `request` is our nonce).
ReplyAction registration_reply(const Reply& reply, std::uint32_t from, std::uint32_t replica_count);

// The store's result of an executed operation, as the client reports it.
Result result_of(OpKind kind, const kv::Result& result);

}  // namespace vsr::client::detail
