// One struct per protocol message (VRR section numbers in the comments).
//
// Every replica-to-replica message names its sender and its sender's view; the
// codec (codec.h) turns them into bytes and back, checking every bound.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <variant>
#include <vector>

#include "common/codec.h"
#include "replica/core/entry.h"
#include "replica/core/types.h"

namespace vsr {

// ---- Client <-> replica (VRR 4.1) ----

// session 0 with an empty operation registers a new session; `request` then
// carries the client's nonce, echoed in the reply so the client can match it.
struct Request {
  SessionId session;
  RequestNumber request;
  Bytes operation;
  bool operator==(const Request&) const = default;
};

enum class ReplyStatus : std::uint8_t {
  ok = 0,               // result holds the state machine's result (or the session id)
  not_primary = 1,      // try primary(view)
  session_evicted = 2,  // the session was evicted from the client table: register again
  busy = 3,             // the primary's request queue is full: retry later
  invalid = 4,          // the operation was refused before ordering (malformed, too large)
};

struct Reply {
  ViewNumber view;
  SessionId session;
  RequestNumber request;
  ReplyStatus status = ReplyStatus::ok;
  Bytes result;
  bool operator==(const Reply&) const = default;
};

// ---- Normal operation (VRR 4.1) ----

struct Prepare {
  ViewNumber view;
  OpNumber commit;  // the primary's commit number rides on every Prepare
  Entry entry;
  ReplicaId replica = 0;
  bool operator==(const Prepare&) const = default;
};

// "I hold op and every entry before it, exactly as the primary of view sent it."
struct PrepareOk {
  ViewNumber view;
  OpNumber op;
  Checksum checksum = 0;  // of the entry at op, so the primary can verify identity
  ReplicaId replica = 0;
  bool operator==(const PrepareOk&) const = default;
};

// Idle heartbeat from the primary.
struct Commit {
  ViewNumber view;
  OpNumber commit;
  ReplicaId replica = 0;
  bool operator==(const Commit&) const = default;
};

// ---- View change (VRR 4.2) ----

struct StartViewChange {
  ViewNumber view;
  ReplicaId replica = 0;
  bool operator==(const StartViewChange&) const = default;
};

// A verifiable piece of a log: entries start+1 .. start+entries.size(). The
// receiver checks that start_checksum equals its own entry at `start` before
// using it; the hash chain then guarantees the histories match up to there.
struct LogSuffix {
  OpNumber start;
  Checksum start_checksum = 0;
  std::vector<Entry> entries;
  OpNumber end() const { return OpNumber(start.value() + entries.size()); }
  // The checksum of the entry at `op`, start <= op <= end() (start_checksum at start).
  Checksum checksum_at(OpNumber op) const {
    return op == start ? start_checksum : entries[op.value() - start.value() - 1].header.checksum;
  }
  bool operator==(const LogSuffix&) const = default;
};

struct DoViewChange {
  ViewNumber view;
  ViewNumber last_normal_view;
  OpNumber op;
  OpNumber commit;
  LogSuffix log;  // the sender's entries after its commit number (at most the pipeline depth)
  ReplicaId replica = 0;
  // false: the sender holds faulty entries and vouches only for its last_normal_view
  // and commit number, not for its log (op = commit, log empty). See
  // Replica::complete_view_change for when such a one may count.
  bool whole = true;
  bool operator==(const DoViewChange&) const = default;
};

struct StartView {
  ViewNumber view;
  OpNumber op;
  OpNumber commit;
  LogSuffix log;  // the new log's tail; a backup that cannot chain it transfers state
  ReplicaId replica = 0;
  bool operator==(const StartView&) const = default;
};

// ---- State transfer (VRR 5.2) ----

// committed_only: "send me committed entries after op" - answerable by any replica
// that is not recovering, whatever its view, because committed entries are the same
// everywhere. Otherwise the VRR form: only a replica normal in `view` answers, with
// its whole log after op (committed or not).
struct GetState {
  ViewNumber view;
  OpNumber op;
  bool committed_only = false;
  ReplicaId replica = 0;
  bool operator==(const GetState&) const = default;
};

// State machine + client table as of op (VRR 5.1).
struct CheckpointState {
  OpNumber op;
  Checksum checksum = 0;  // of the entry at op: the next entry's parent
  Bytes state;
  bool operator==(const CheckpointState&) const = default;
};

struct NewState {
  ViewNumber view;
  OpNumber op;      // the responder's op (its head), or its commit if committed_only
  OpNumber commit;  // the responder's commit number
  bool committed_only = false;
  std::optional<CheckpointState> checkpoint;  // when the log below the request was compacted
  LogSuffix log;
  ReplicaId replica = 0;
  bool operator==(const NewState&) const = default;
};

// ---- Recovery (VRR 4.3) ----

struct Recovery {
  std::uint64_t nonce = 0;
  ReplicaId replica = 0;
  bool operator==(const Recovery&) const = default;
};

struct RecoveryResponse {
  ViewNumber view;
  std::uint64_t nonce = 0;
  bool from_primary = false;  // only the primary's response carries op and commit
  OpNumber op;
  OpNumber commit;
  ReplicaId replica = 0;
  bool operator==(const RecoveryResponse&) const = default;
};

// ---- Repair of a faulty entry (protocol-aware recovery) ----

// "Send me the entry at op whose checksum is `checksum`." Anyone holding exactly that
// entry may answer, in any status: the checksum makes the answer self-verifying.
struct RequestEntry {
  OpNumber op;
  Checksum checksum = 0;
  ReplicaId replica = 0;
  bool operator==(const RequestEntry&) const = default;
};

struct EntryRepair {
  Entry entry;
  ReplicaId replica = 0;
  bool operator==(const EntryRepair&) const = default;
};

// "I do not hold the entry at op whose checksum is `checksum`": the answer, sent from
// `view`, of a replica that cannot repair it (never of a recovering one). Nacks from
// every other replica let the asker drop an entry that a power cut tore
// (Replica::maybe_drop_torn_tail says when).
struct EntryNack {
  OpNumber op;
  Checksum checksum = 0;
  ViewNumber view;
  ReplicaId replica = 0;
  bool operator==(const EntryNack&) const = default;
};

using Message =
    std::variant<Prepare, PrepareOk, Commit, StartViewChange, DoViewChange, StartView, GetState,
                 NewState, Recovery, RecoveryResponse, RequestEntry, EntryRepair, EntryNack>;

ReplicaId sender_of(const Message& message);
const char* name_of(const Message& message);

std::ostream& operator<<(std::ostream& out, const Message& message);
std::ostream& operator<<(std::ostream& out, const Request& request);
std::ostream& operator<<(std::ostream& out, const Reply& reply);

}  // namespace vsr
