#include "replica/core/codec.h"

#include <type_traits>

#include "common/assert.h"
#include "replica/core/limits.h"

namespace vsr {

namespace {

// Fields shared by several messages.
void put_entry(Writer& w, const Entry& e) {
  e.header.encode(w);
  w.put_bytes(e.body);
}

std::optional<Entry> get_entry(Reader& r) {
  Entry e;
  e.header = EntryHeader::decode(r);
  const ByteView body = r.get_bytes(limits::kEntryBodyBytes);
  if (!r.ok() || body.size() != e.header.body_size) return std::nullopt;
  e.body.assign(body.begin(), body.end());
  return e;
}

void put_suffix(Writer& w, const LogSuffix& s) {
  w.put(s.start.value());
  w.put(s.start_checksum);
  w.put(static_cast<std::uint32_t>(s.entries.size()));
  for (const Entry& e : s.entries) put_entry(w, e);
}

bool get_suffix(Reader& r, LogSuffix& s) {
  s.start = OpNumber(r.get<std::uint64_t>());
  s.start_checksum = r.get<Checksum>();
  const auto count = r.get<std::uint32_t>();
  // Each entry takes at least its header on the wire, so a count larger than the
  // remaining bytes allow is malformed; this bounds the allocation below.
  if (!r.ok() || count > r.remaining() / EntryHeader::kEncodedSize) return false;
  s.entries.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    auto e = get_entry(r);
    if (!e) return false;
    // Entries of a suffix are consecutive: a gap or a reordering is malformed.
    if (e->header.op.value() != s.start.value() + 1 + i) return false;
    s.entries.push_back(std::move(*e));
  }
  return r.ok();
}

void put_one(Writer& w, const Prepare& m) {
  w.put(m.view.value());
  w.put(m.commit.value());
  w.put(m.replica);
  put_entry(w, m.entry);
}
void put_one(Writer& w, const PrepareOk& m) {
  w.put(m.view.value());
  w.put(m.op.value());
  w.put(m.checksum);
  w.put(m.replica);
}
void put_one(Writer& w, const Commit& m) {
  w.put(m.view.value());
  w.put(m.commit.value());
  w.put(m.replica);
}
void put_one(Writer& w, const StartViewChange& m) {
  w.put(m.view.value());
  w.put(m.replica);
}
void put_one(Writer& w, const DoViewChange& m) {
  w.put(m.view.value());
  w.put(m.last_normal_view.value());
  w.put(m.op.value());
  w.put(m.commit.value());
  w.put(m.replica);
  w.put(static_cast<std::uint8_t>(m.whole));
  put_suffix(w, m.log);
}
void put_one(Writer& w, const StartView& m) {
  w.put(m.view.value());
  w.put(m.op.value());
  w.put(m.commit.value());
  w.put(m.replica);
  put_suffix(w, m.log);
}
void put_one(Writer& w, const GetState& m) {
  w.put(m.view.value());
  w.put(m.op.value());
  w.put(static_cast<std::uint8_t>(m.committed_only));
  w.put(m.replica);
}
void put_one(Writer& w, const NewState& m) {
  w.put(m.view.value());
  w.put(m.op.value());
  w.put(m.commit.value());
  w.put(static_cast<std::uint8_t>(m.committed_only));
  w.put(m.replica);
  w.put(static_cast<std::uint8_t>(m.checkpoint.has_value()));
  if (m.checkpoint) {
    w.put(m.checkpoint->op.value());
    w.put(m.checkpoint->checksum);
    w.put_bytes(m.checkpoint->state);
  }
  put_suffix(w, m.log);
}
void put_one(Writer& w, const Recovery& m) {
  w.put(m.nonce);
  w.put(m.replica);
}
void put_one(Writer& w, const RecoveryResponse& m) {
  w.put(m.view.value());
  w.put(m.nonce);
  w.put(static_cast<std::uint8_t>(m.from_primary));
  w.put(m.op.value());
  w.put(m.commit.value());
  w.put(m.replica);
}
void put_one(Writer& w, const RequestEntry& m) {
  w.put(m.op.value());
  w.put(m.checksum);
  w.put(m.replica);
}
void put_one(Writer& w, const EntryRepair& m) {
  w.put(m.replica);
  put_entry(w, m.entry);
}
void put_one(Writer& w, const EntryNack& m) {
  w.put(m.op.value());
  w.put(m.checksum);
  w.put(m.view.value());
  w.put(m.replica);
}

bool get_bool(Reader& r, bool& out) {
  const auto b = r.get<std::uint8_t>();
  if (b > 1) r.fail();
  out = b == 1;
  return r.ok();
}

ViewNumber get_view(Reader& r) { return ViewNumber(r.get<std::uint64_t>()); }
OpNumber get_op(Reader& r) { return OpNumber(r.get<std::uint64_t>()); }

std::optional<Message> get_one(MessageKind kind, Reader& r) {
  switch (kind) {
    case MessageKind::prepare: {
      Prepare m;
      m.view = get_view(r);
      m.commit = get_op(r);
      m.replica = r.get<ReplicaId>();
      auto e = get_entry(r);
      if (!e) return std::nullopt;
      m.entry = std::move(*e);
      return m;
    }
    case MessageKind::prepare_ok: {
      PrepareOk m;
      m.view = get_view(r);
      m.op = get_op(r);
      m.checksum = r.get<Checksum>();
      m.replica = r.get<ReplicaId>();
      return m;
    }
    case MessageKind::commit: {
      Commit m;
      m.view = get_view(r);
      m.commit = get_op(r);
      m.replica = r.get<ReplicaId>();
      return m;
    }
    case MessageKind::start_view_change: {
      StartViewChange m;
      m.view = get_view(r);
      m.replica = r.get<ReplicaId>();
      return m;
    }
    case MessageKind::do_view_change: {
      DoViewChange m;
      m.view = get_view(r);
      m.last_normal_view = get_view(r);
      m.op = get_op(r);
      m.commit = get_op(r);
      m.replica = r.get<ReplicaId>();
      get_bool(r, m.whole);
      if (!get_suffix(r, m.log)) return std::nullopt;
      return m;
    }
    case MessageKind::start_view: {
      StartView m;
      m.view = get_view(r);
      m.op = get_op(r);
      m.commit = get_op(r);
      m.replica = r.get<ReplicaId>();
      if (!get_suffix(r, m.log)) return std::nullopt;
      return m;
    }
    case MessageKind::get_state: {
      GetState m;
      m.view = get_view(r);
      m.op = get_op(r);
      get_bool(r, m.committed_only);
      m.replica = r.get<ReplicaId>();
      return m;
    }
    case MessageKind::new_state: {
      NewState m;
      m.view = get_view(r);
      m.op = get_op(r);
      m.commit = get_op(r);
      get_bool(r, m.committed_only);
      m.replica = r.get<ReplicaId>();
      bool has_checkpoint = false;
      if (!get_bool(r, has_checkpoint)) return std::nullopt;
      if (has_checkpoint) {
        CheckpointState c;
        c.op = get_op(r);
        c.checksum = r.get<Checksum>();
        const ByteView state = r.get_bytes(limits::kCheckpointBytes);
        if (!r.ok()) return std::nullopt;
        c.state.assign(state.begin(), state.end());
        m.checkpoint = std::move(c);
      }
      if (!get_suffix(r, m.log)) return std::nullopt;
      return m;
    }
    case MessageKind::recovery: {
      Recovery m;
      m.nonce = r.get<std::uint64_t>();
      m.replica = r.get<ReplicaId>();
      return m;
    }
    case MessageKind::recovery_response: {
      RecoveryResponse m;
      m.view = get_view(r);
      m.nonce = r.get<std::uint64_t>();
      get_bool(r, m.from_primary);
      m.op = get_op(r);
      m.commit = get_op(r);
      m.replica = r.get<ReplicaId>();
      return m;
    }
    case MessageKind::request_entry: {
      RequestEntry m;
      m.op = get_op(r);
      m.checksum = r.get<Checksum>();
      m.replica = r.get<ReplicaId>();
      return m;
    }
    case MessageKind::entry_repair: {
      EntryRepair m;
      m.replica = r.get<ReplicaId>();
      auto e = get_entry(r);
      if (!e) return std::nullopt;
      m.entry = std::move(*e);
      return m;
    }
    case MessageKind::entry_nack: {
      EntryNack m;
      m.op = get_op(r);
      m.checksum = r.get<Checksum>();
      m.view = get_view(r);
      m.replica = r.get<ReplicaId>();
      return m;
    }
    case MessageKind::request:
    case MessageKind::reply:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

MessageKind kind_of(const Message& message) {
  return std::visit(
      [](const auto& m) -> MessageKind {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Prepare>) return MessageKind::prepare;
        if constexpr (std::is_same_v<T, PrepareOk>) return MessageKind::prepare_ok;
        if constexpr (std::is_same_v<T, Commit>) return MessageKind::commit;
        if constexpr (std::is_same_v<T, StartViewChange>) return MessageKind::start_view_change;
        if constexpr (std::is_same_v<T, DoViewChange>) return MessageKind::do_view_change;
        if constexpr (std::is_same_v<T, StartView>) return MessageKind::start_view;
        if constexpr (std::is_same_v<T, GetState>) return MessageKind::get_state;
        if constexpr (std::is_same_v<T, NewState>) return MessageKind::new_state;
        if constexpr (std::is_same_v<T, Recovery>) return MessageKind::recovery;
        if constexpr (std::is_same_v<T, RecoveryResponse>) return MessageKind::recovery_response;
        if constexpr (std::is_same_v<T, RequestEntry>) return MessageKind::request_entry;
        if constexpr (std::is_same_v<T, EntryRepair>) return MessageKind::entry_repair;
        if constexpr (std::is_same_v<T, EntryNack>) return MessageKind::entry_nack;
      },
      message);
}

void encode(const Message& message, Bytes& out) {
  Writer w(out);
  std::visit([&w](const auto& m) { put_one(w, m); }, message);
}

void encode_request(SessionId session, RequestNumber request, ByteView operation, Bytes& out) {
  out.reserve(out.size() + 2 * sizeof(std::uint64_t) + sizeof(std::uint32_t) + operation.size());
  Writer w(out);
  w.put(session.value());
  w.put(request.value());
  w.put_bytes(operation);
}

void encode(const Request& request, Bytes& out) {
  encode_request(request.session, request.request, request.operation, out);
}

void encode(const Reply& reply, Bytes& out) {
  Writer w(out);
  w.put(reply.view.value());
  w.put(reply.session.value());
  w.put(reply.request.value());
  w.put(static_cast<std::uint8_t>(reply.status));
  w.put_bytes(reply.result);
}

std::optional<Message> decode_message(MessageKind kind, ByteView bytes) {
  Reader r(bytes);
  auto m = get_one(kind, r);
  if (!m || !r.done()) return std::nullopt;
  if (sender_of(*m) >= kMaxReplicas) return std::nullopt;
  return m;
}

std::optional<Request> decode_request(ByteView bytes) {
  Reader r(bytes);
  Request q;
  q.session = SessionId(r.get<std::uint64_t>());
  q.request = RequestNumber(r.get<std::uint64_t>());
  const ByteView op = r.get_bytes(limits::kOperationBytes);
  if (!r.done()) return std::nullopt;
  q.operation.assign(op.begin(), op.end());
  return q;
}

std::optional<Reply> decode_reply(ByteView bytes) {
  Reader r(bytes);
  Reply p;
  p.view = ViewNumber(r.get<std::uint64_t>());
  p.session = SessionId(r.get<std::uint64_t>());
  p.request = RequestNumber(r.get<std::uint64_t>());
  const auto status = r.get<std::uint8_t>();
  if (status > static_cast<std::uint8_t>(ReplyStatus::invalid)) return std::nullopt;
  p.status = static_cast<ReplyStatus>(status);
  const ByteView result = r.get_bytes(limits::kResultBytes);
  if (!r.done()) return std::nullopt;
  p.result.assign(result.begin(), result.end());
  return p;
}

}  // namespace vsr
