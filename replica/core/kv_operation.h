// The built-in key-value store's operations and results, as bytes.
//
// Shared by the store (which applies them) and the client library (which builds
// them and reads results), so both sides agree on one encoding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/codec.h"

namespace vsr::kv {

inline constexpr std::size_t kMaxKeyBytes = 256;
inline constexpr std::size_t kMaxValueBytes = 16 * 1024;

enum class OpKind : std::uint8_t { get = 1, put = 2, del = 3, cas = 4, append = 5 };

struct Operation {
  OpKind kind = OpKind::get;
  std::string key;
  std::string value;     // put, append: the value; cas: the new value
  std::string expected;  // cas only
};

enum class ResultStatus : std::uint8_t {
  ok = 0,
  not_found = 1,     // get, del: the key is absent
  cas_mismatch = 2,  // cas: the current value differs (value holds it, if present)
  too_large = 3,     // the value would exceed kMaxValueBytes, or the store is full
};

struct Result {
  ResultStatus status = ResultStatus::ok;
  std::optional<std::string> value;  // get: the value; cas_mismatch: the current value
};

// An operation decoded in place: views into the encoded bytes, which must outlive it.
// What the store validates and applies, so that neither allocates per request.
struct OperationView {
  OpKind kind = OpKind::get;
  std::string_view key;
  std::string_view value;
  std::string_view expected;
};

inline OperationView view_of(const Operation& op) {
  return OperationView{op.kind, op.key, op.value, op.expected};
}

// Why an operation is invalid, or empty if it is valid.
std::string_view check(const OperationView& op);
std::string_view check(const Operation& op);

// Appends the encoding to `out`, reserving its exact size first (one allocation at
// most: the client encodes every operation it sends).
void encode(const OperationView& op, Bytes& out);
void encode(const Operation& op, Bytes& out);
std::optional<OperationView> decode_operation_view(ByteView bytes);
std::optional<Operation> decode_operation(ByteView bytes);

void encode(const Result& result, Bytes& out);
std::optional<Result> decode_result(ByteView bytes);

std::string_view to_string(OpKind kind);
std::optional<OpKind> op_kind_from(std::string_view name);

}  // namespace vsr::kv
