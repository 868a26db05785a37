// Messages to bytes and back. Decoding takes untrusted bytes: it checks every
// length against limits.h and returns nullopt for anything malformed.
#pragma once

#include <cstdint>
#include <optional>

#include "common/codec.h"
#include "replica/core/message.h"

namespace vsr {

// Frame kinds (the transport's opaque u16): one per message struct.
enum class MessageKind : std::uint16_t {
  prepare = 1,
  prepare_ok = 2,
  commit = 3,
  start_view_change = 4,
  do_view_change = 5,
  start_view = 6,
  get_state = 7,
  new_state = 8,
  recovery = 9,
  recovery_response = 10,
  request_entry = 11,
  entry_repair = 12,
  entry_nack = 13,
  request = 32,
  reply = 33,
};

MessageKind kind_of(const Message& message);

void encode(const Message& message, Bytes& out);
void encode(const Request& request, Bytes& out);
// The same bytes as encode(Request{session, request, operation}), without the copy of
// the operation a Request would hold (the client sends every operation this way).
void encode_request(SessionId session, RequestNumber request, ByteView operation, Bytes& out);
void encode(const Reply& reply, Bytes& out);

std::optional<Message> decode_message(MessageKind kind, ByteView bytes);
std::optional<Request> decode_request(ByteView bytes);
std::optional<Reply> decode_reply(ByteView bytes);

}  // namespace vsr
