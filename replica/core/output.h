// What a step of the core asks its driver to do, as data.
//
// Storage writes happen during the step, through the Journal; the driver must make
// them durable (Journal::sync in sync mode `batch`) before it sends any of these
// messages or replies, because they may depend on those writes.
#pragma once

#include <optional>
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
};

}  // namespace vsr
