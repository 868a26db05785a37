// What a step of the core asks its driver to do, as data.
//
// Storage writes happen during the step, through the Journal; the driver must make
// them durable (Journal::sync in sync mode `batch`) before it sends any of these
// messages or replies, because they may depend on those writes. Except, with
// ReplicaConfig::self_durability_reported, a primary's output that vouches for nothing
// in its own log (vouches_for_own_log() false): see Replica::on_durable.
#pragma once

#include <optional>
#include <variant>
#include <vector>

#include "replica/core/message.h"

namespace vsr {

struct Envelope {
  std::optional<ReplicaId> to;  // nullopt: every other replica
  Message message;
};

struct ClientReply {
  ClientId client = 0;
  Reply reply;
};

struct Output {
  std::vector<Envelope> messages;
  std::vector<ClientReply> replies;
  bool empty() const { return messages.empty() && replies.empty(); }
  void clear() {
    messages.clear();
    replies.clear();
  }
  // Whether a message here claims something about this replica's own log (a PrepareOk,
  // a DoViewChange, a log sent to a peer, ...). Prepares claim nothing; a Commit and a
  // client reply follow a commit, which counted our copy only once it was durable.
  bool vouches_for_own_log() const {
    for (const Envelope& e : messages) {
      if (!std::holds_alternative<Prepare>(e.message) && !std::holds_alternative<Commit>(e.message)) {
        return true;
      }
    }
    return false;
  }
};

}  // namespace vsr
