// Client operations on their way to the wire: argument checks (before anything is sent)
// and the key-value store's encoding (replica/core/kv_operation.h, shared with the store).
#pragma once

#include <string>

#include "common/codec.h"
#include "replica/core/kv_operation.h"
#include "vsr/client.h"

namespace vsr::client::detail {

// Why `op` cannot be sent (key or value size, a field its kind does not take), or empty.
std::string check_op(const Op& op);

// The store's encoding of a valid operation (check_op(op) is empty).
Bytes encode_op(const Op& op);

kv::OpKind to_kv(OpKind kind);

}  // namespace vsr::client::detail
