#include "replica/core/message.h"

#include <type_traits>

namespace vsr {

std::string_view to_string(Status status) {
  switch (status) {
    case Status::normal:
      return "normal";
    case Status::view_change:
      return "view-change";
    case Status::recovering:
      return "recovering";
    case Status::state_transfer:
      return "state-transfer";
  }
  return "?";
}

std::string_view to_string(ViewChangeCause cause) {
  switch (cause) {
    case ViewChangeCause::none:
      return "none";
    case ViewChangeCause::primary_silent:
      return "the primary was silent for the view-change timeout";
    case ViewChangeCause::stalled:
      return "the previous view change stalled";
    case ViewChangeCause::primary_down:
      return "the supervisor saw the primary die";
    case ViewChangeCause::peer:
      return "another replica started it";
    case ViewChangeCause::restart:
      return "restarted as primary of a view it may not resume";
    case ViewChangeCause::unfinished:
      return "restarted during it";
  }
  return "?";
}

ReplicaId sender_of(const Message& message) {
  return std::visit([](const auto& m) { return m.replica; }, message);
}

const char* name_of(const Message& message) {
  return std::visit(
      [](const auto& m) -> const char* {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Prepare>) return "Prepare";
        if constexpr (std::is_same_v<T, PrepareOk>) return "PrepareOk";
        if constexpr (std::is_same_v<T, Commit>) return "Commit";
        if constexpr (std::is_same_v<T, StartViewChange>) return "StartViewChange";
        if constexpr (std::is_same_v<T, DoViewChange>) return "DoViewChange";
        if constexpr (std::is_same_v<T, StartView>) return "StartView";
        if constexpr (std::is_same_v<T, GetState>) return "GetState";
        if constexpr (std::is_same_v<T, NewState>) return "NewState";
        if constexpr (std::is_same_v<T, Recovery>) return "Recovery";
        if constexpr (std::is_same_v<T, RecoveryResponse>) return "RecoveryResponse";
        if constexpr (std::is_same_v<T, RequestEntry>) return "RequestEntry";
        if constexpr (std::is_same_v<T, EntryRepair>) return "EntryRepair";
        if constexpr (std::is_same_v<T, EntryNack>) return "EntryNack";
      },
      message);
}

namespace {
void print_suffix(std::ostream& out, const LogSuffix& s) {
  out << " log=(" << s.start << ".." << s.end() << "]";
}
}  // namespace

std::ostream& operator<<(std::ostream& out, const Message& message) {
  out << name_of(message) << "{from=" << int(sender_of(message));
  std::visit(
      [&out](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Prepare>) {
          out << " v=" << m.view << " op=" << m.entry.header.op << " commit=" << m.commit
              << " entry_view=" << m.entry.header.view;
        } else if constexpr (std::is_same_v<T, PrepareOk>) {
          out << " v=" << m.view << " op=" << m.op;
        } else if constexpr (std::is_same_v<T, Commit>) {
          out << " v=" << m.view << " commit=" << m.commit;
        } else if constexpr (std::is_same_v<T, StartViewChange>) {
          out << " v=" << m.view;
        } else if constexpr (std::is_same_v<T, DoViewChange>) {
          out << " v=" << m.view << " lnv=" << m.last_normal_view << " op=" << m.op
              << " commit=" << m.commit;
          if (!m.whole) out << " faulty";
          print_suffix(out, m.log);
        } else if constexpr (std::is_same_v<T, StartView>) {
          out << " v=" << m.view << " op=" << m.op << " commit=" << m.commit;
          print_suffix(out, m.log);
        } else if constexpr (std::is_same_v<T, GetState>) {
          out << " v=" << m.view << " op=" << m.op << (m.committed_only ? " committed" : "");
        } else if constexpr (std::is_same_v<T, NewState>) {
          out << " v=" << m.view << " op=" << m.op << " commit=" << m.commit
              << (m.committed_only ? " committed" : "");
          if (m.checkpoint) out << " checkpoint=" << m.checkpoint->op;
          print_suffix(out, m.log);
        } else if constexpr (std::is_same_v<T, Recovery>) {
          out << " nonce=" << m.nonce;
        } else if constexpr (std::is_same_v<T, RecoveryResponse>) {
          out << " v=" << m.view << " nonce=" << m.nonce;
          if (m.from_primary) out << " op=" << m.op << " commit=" << m.commit;
        } else if constexpr (std::is_same_v<T, RequestEntry>) {
          out << " op=" << m.op;
        } else if constexpr (std::is_same_v<T, EntryRepair>) {
          out << " op=" << m.entry.header.op;
        } else if constexpr (std::is_same_v<T, EntryNack>) {
          out << " op=" << m.op << " v=" << m.view;
        }
      },
      message);
  return out << "}";
}

std::ostream& operator<<(std::ostream& out, const Request& request) {
  return out << "Request{session=" << request.session << " request=" << request.request
             << " bytes=" << request.operation.size() << "}";
}

std::ostream& operator<<(std::ostream& out, const Reply& reply) {
  return out << "Reply{v=" << reply.view << " session=" << reply.session
             << " request=" << reply.request << " status=" << int(reply.status) << "}";
}

}  // namespace vsr
