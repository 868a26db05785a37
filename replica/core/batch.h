// The body of a log entry: the batch of client requests one Prepare orders.
//
//   u32 count, then per request: u64 session, u64 request number, u32 length, bytes
//
// Session 0 marks a registration; its request number is the client's nonce.
#pragma once

#include <cstdint>
#include <functional>

#include "common/codec.h"
#include "replica/core/types.h"

namespace vsr {

struct BatchItem {
  SessionId session;
  RequestNumber request;
  ByteView operation;
};

class BatchWriter {
 public:
  explicit BatchWriter(Bytes& body);
  void add(SessionId session, RequestNumber request, ByteView operation);
  std::uint32_t count() const { return count_; }
  static std::size_t item_size(ByteView operation) { return 20 + operation.size(); }

 private:
  Bytes& body_;
  std::uint32_t count_ = 0;
};

// Calls `visit` for each item; false if the body is malformed (never for a body
// that passed its checksum and was written by BatchWriter).
bool for_each_item(ByteView body, const std::function<void(const BatchItem&)>& visit);

}  // namespace vsr
