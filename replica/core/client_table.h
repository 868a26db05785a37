// The client table (VRR 4.1): per session, the latest request number and, once
// executed, its result. Applied on every replica in op order and saved in every
// checkpoint, so every replica deduplicates retries the same way.
//
// Bounded: at most `capacity` sessions. Registering one more evicts the least
// recently used session (the one whose last request committed earliest, ties
// broken by session id; every replica applies the same ops, so every replica
// evicts the same session). Session ids are never reused, so a request from an id
// below next_session() that is not in the table comes from an evicted session.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>

#include "common/checksum.h"
#include "common/codec.h"
#include "replica/core/types.h"

namespace vsr {

class ClientTable {
 public:
  struct Session {
    SessionId id;
    RequestNumber request;  // latest executed request (0: none yet)
    Bytes result;           // its result, resent on a retry
  };

  explicit ClientTable(std::size_t capacity);

  // Creates a session (the registration op is committed); evicts the LRU one if full.
  SessionId register_session();
  const Session* find(SessionId id) const;
  bool evicted(SessionId id) const;
  // Records an executed request and makes the session the most recently used.
  void record(SessionId id, RequestNumber request, ByteView result);

  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return capacity_; }
  SessionId next_session() const { return next_session_; }

  void snapshot(Bytes& out) const;
  bool restore(Reader& in);
  Checksum digest() const;

 private:
  std::size_t capacity_;
  SessionId next_session_{1};
  std::list<Session> lru_;  // front: least recently used
  std::unordered_map<SessionId, std::list<Session>::iterator> index_;
};

}  // namespace vsr
