// Identifiers and numbers of the protocol, as strong types (names from VRR).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/strong_type.h"

namespace vsr {

struct ViewTag {};
struct OpTag {};
struct SessionTag {};
struct RequestTag {};

using ViewNumber = StrongInt<ViewTag>;
using OpNumber = StrongInt<OpTag>;
using SessionId = StrongInt<SessionTag>;
using RequestNumber = StrongInt<RequestTag>;

// Stable replica id 0..N-1 from the configuration every replica starts with (R#2).
// Nothing else (pids, start order, connection order) ever orders replicas.
using ReplicaId = std::uint8_t;

// Opaque address of a client endpoint, chosen by the driver (for shared memory:
// slot and slot generation). The core only stores it to route replies.
using ClientId = std::uint64_t;

inline constexpr std::uint32_t kMaxReplicas = 7;

// VRR statuses, plus state_transfer: the replica knows view v has started but
// does not yet hold v's log (see replica.cpp, "Why state transfer is atomic").
enum class Status : std::uint8_t {
  normal = 0,
  view_change = 1,
  recovering = 2,
  state_transfer = 3,
};

std::string_view to_string(Status status);

// Why a replica began its latest view change: for its log and its operator, never for
// a protocol decision.
enum class ViewChangeCause : std::uint8_t {
  none = 0,        // it has not begun one since it started
  primary_silent,  // no Prepare or Commit from the primary within the timeout
  stalled,         // the view change itself made no progress within the timeout
  primary_down,    // the supervisor's hint: the primary's process died
  peer,            // another replica's StartViewChange or DoViewChange of a newer view
  restart,         // restarted as primary of its view, which it may not resume
  unfinished,      // restarted in a view it had not yet seen start
};

std::string_view to_string(ViewChangeCause cause);

}  // namespace vsr
