#include "client/src/operation.h"

#include "common/assert.h"

namespace vsr::client::detail {

static_assert(kMaxKeyBytes == kv::kMaxKeyBytes, "the public limits must be the store's");
static_assert(kMaxValueBytes == kv::kMaxValueBytes, "the public limits must be the store's");

namespace {

// Views into `op`, which must outlive the result.
kv::OperationView as_kv_operation(const Op& op) {
  return kv::OperationView{to_kv(op.kind), op.key, op.value, op.expected};
}

}  // namespace

kv::OpKind to_kv(OpKind kind) {
  switch (kind) {
    case OpKind::get:
      return kv::OpKind::get;
    case OpKind::put:
      return kv::OpKind::put;
    case OpKind::del:
      return kv::OpKind::del;
    case OpKind::cas:
      return kv::OpKind::cas;
    case OpKind::append:
      return kv::OpKind::append;
  }
  VSR_ASSERT_MSG(false, "unknown operation kind");
  return kv::OpKind::get;
}

std::string check_op(const Op& op) {
  // The same rules the store applies (kv::check), so that nothing the replica would
  // refuse is ever sent; the messages name the sizes so a user can act on them.
  if (op.key.empty()) return "the key is empty (keys are 1 to 256 bytes)";
  if (op.key.size() > kMaxKeyBytes) {
    return "the key is " + std::to_string(op.key.size()) + " bytes (keys are 1 to 256 bytes)";
  }
  if (op.value.size() > kMaxValueBytes) {
    return "the value is " + std::to_string(op.value.size()) +
           " bytes (values are at most 16384 bytes)";
  }
  if (op.expected.size() > kMaxValueBytes) {
    return "the expected value is " + std::to_string(op.expected.size()) +
           " bytes (values are at most 16384 bytes)";
  }
  const std::string_view rule = kv::check(as_kv_operation(op));
  return std::string(rule);
}

Bytes encode_op(const Op& op) {
  const kv::OperationView view = as_kv_operation(op);
  // kv::check: check_op's rules without building its message.
  VSR_ASSERT_MSG(kv::check(view).empty(), "encoding an operation that failed its checks");
  Bytes out;
  kv::encode(view, out);
  return out;
}

}  // namespace vsr::client::detail
