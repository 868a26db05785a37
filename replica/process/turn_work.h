// Which messages count as work for WaitMode (wait_mode.h): the rule event_loop.cpp
// applies to every message a turn receives or sends.
//
//   protocol  someone may answer within microseconds (a request, a PrepareOk, a view
//             change, a Prepare of an op not yet committed): yield-poll for the answer.
//   deferred  a Prepare of an op already committed, held back for this backup by the
//             primary's quorum_first fan-out: nobody waits on its PrepareOk, so nap.
//   none      heartbeats (Commit) received or sent, and PrepareOks sent: what comes
//             next is the primary's Prepare, which says itself whether anyone waits.
#pragma once

#include "replica/core/codec.h"
#include "replica/core/message.h"

namespace vsr::process {

enum class TurnWork : std::uint8_t { none, deferred, protocol };

// A message received, judged by its kind before decoding: a Prepare is judged once
// decoded (work_of_prepare); anything else but a heartbeat is protocol work, even if it
// then fails to decode.
constexpr TurnWork work_of_received(MessageKind kind) {
  return kind == MessageKind::commit || kind == MessageKind::prepare ? TurnWork::none
                                                                     : TurnWork::protocol;
}

inline TurnWork work_of_prepare(const Prepare& prepare) {
  return prepare.commit < prepare.entry.header.op ? TurnWork::protocol : TurnWork::deferred;
}

constexpr TurnWork work_of_sent(MessageKind kind) {
  return kind == MessageKind::commit || kind == MessageKind::prepare_ok ? TurnWork::none
                                                                        : TurnWork::protocol;
}

// What one turn did, for WaitMode::after_turn.
struct TurnWorkSeen {
  bool protocol = false;
  bool deferred = false;
  void note(TurnWork work) {
    protocol = protocol || work == TurnWork::protocol;
    deferred = deferred || work == TurnWork::deferred;
  }
};

}  // namespace vsr::process
