#include "replica/core/kv_operation.h"

namespace vsr::kv {

std::string_view check(const OperationView& op) {
  if (op.key.empty()) return "the key is empty";
  if (op.key.size() > kMaxKeyBytes) return "the key is longer than 256 bytes";
  if (op.value.size() > kMaxValueBytes) return "the value is longer than 16384 bytes";
  if (op.expected.size() > kMaxValueBytes) return "the expected value is longer than 16384 bytes";
  const bool has_value = op.kind == OpKind::put || op.kind == OpKind::append || op.kind == OpKind::cas;
  if (!has_value && !op.value.empty()) return "this operation takes no value";
  if (op.kind != OpKind::cas && !op.expected.empty()) return "only cas takes an expected value";
  return {};
}

std::string_view check(const Operation& op) {
  return check(view_of(op));
}

void encode(const OperationView& op, Bytes& out) {
  out.reserve(out.size() + sizeof(std::uint8_t) + 3 * sizeof(std::uint32_t) + op.key.size() +
              op.value.size() + op.expected.size());
  Writer w(out);
  w.put(static_cast<std::uint8_t>(op.kind));
  w.put_bytes(op.key);
  w.put_bytes(op.value);
  w.put_bytes(op.expected);
}

void encode(const Operation& op, Bytes& out) {
  encode(view_of(op), out);
}

std::optional<OperationView> decode_operation_view(ByteView bytes) {
  Reader r(bytes);
  OperationView op;
  const auto kind = r.get<std::uint8_t>();
  if (kind < 1 || kind > 5) return std::nullopt;
  op.kind = static_cast<OpKind>(kind);
  op.key = as_string(r.get_bytes(kMaxKeyBytes));
  op.value = as_string(r.get_bytes(kMaxValueBytes));
  op.expected = as_string(r.get_bytes(kMaxValueBytes));
  if (!r.done() || !check(op).empty()) return std::nullopt;
  return op;
}

std::optional<Operation> decode_operation(ByteView bytes) {
  const auto view = decode_operation_view(bytes);
  if (!view) return std::nullopt;
  return Operation{view->kind, std::string(view->key), std::string(view->value),
                   std::string(view->expected)};
}

void encode(const Result& result, Bytes& out) {
  out.reserve(out.size() + 2 * sizeof(std::uint8_t) + sizeof(std::uint32_t) +
              (result.value ? result.value->size() : 0));
  Writer w(out);
  w.put(static_cast<std::uint8_t>(result.status));
  w.put(static_cast<std::uint8_t>(result.value.has_value()));
  if (result.value) w.put_bytes(*result.value);
}

std::optional<Result> decode_result(ByteView bytes) {
  Reader r(bytes);
  Result result;
  const auto status = r.get<std::uint8_t>();
  if (status > static_cast<std::uint8_t>(ResultStatus::too_large)) return std::nullopt;
  result.status = static_cast<ResultStatus>(status);
  const auto has_value = r.get<std::uint8_t>();
  if (has_value > 1) return std::nullopt;
  if (has_value == 1) result.value = r.get_string(kMaxValueBytes);
  if (!r.done()) return std::nullopt;
  return result;
}

std::string_view to_string(OpKind kind) {
  switch (kind) {
    case OpKind::get:
      return "get";
    case OpKind::put:
      return "put";
    case OpKind::del:
      return "del";
    case OpKind::cas:
      return "cas";
    case OpKind::append:
      return "append";
  }
  return "?";
}

std::optional<OpKind> op_kind_from(std::string_view name) {
  for (auto kind : {OpKind::get, OpKind::put, OpKind::del, OpKind::cas, OpKind::append}) {
    if (to_string(kind) == name) return kind;
  }
  return std::nullopt;
}

}  // namespace vsr::kv
