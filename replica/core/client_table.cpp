#include "replica/core/client_table.h"

#include "common/assert.h"
#include "replica/core/limits.h"

namespace vsr {

ClientTable::ClientTable(std::size_t capacity) : capacity_(capacity) { VSR_ASSERT(capacity > 0); }

SessionId ClientTable::register_session() {
  if (index_.size() == capacity_) {
    index_.erase(lru_.front().id);
    lru_.pop_front();
  }
  const SessionId id = next_session_;
  next_session_ = next_session_.next();
  lru_.push_back(Session{id, RequestNumber(0), {}});
  index_.emplace(id, std::prev(lru_.end()));
  VSR_ASSERT(index_.size() == lru_.size() && index_.size() <= capacity_);
  return id;
}

const ClientTable::Session* ClientTable::find(SessionId id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &*it->second;
}

bool ClientTable::evicted(SessionId id) const {
  return id.value() != 0 && id < next_session_ && !index_.contains(id);
}

void ClientTable::record(SessionId id, RequestNumber request, ByteView result) {
  auto it = index_.find(id);
  VSR_ASSERT(it != index_.end());
  VSR_ASSERT(request > it->second->request);
  it->second->request = request;
  it->second->result.assign(result.begin(), result.end());
  lru_.splice(lru_.end(), lru_, it->second);
}

void ClientTable::snapshot(Bytes& out) const {
  Writer w(out);
  w.put(next_session_.value());
  w.put(static_cast<std::uint64_t>(lru_.size()));
  for (const Session& s : lru_) {  // in LRU order, so restore rebuilds the same order
    w.put(s.id.value());
    w.put(s.request.value());
    w.put_bytes(s.result);
  }
}

bool ClientTable::restore(Reader& in) {
  const SessionId next(in.get<std::uint64_t>());
  const auto count = in.get<std::uint64_t>();
  if (!in.ok() || count > capacity_) return false;
  std::list<Session> lru;
  std::unordered_map<SessionId, std::list<Session>::iterator> index;
  for (std::uint64_t i = 0; i < count; ++i) {
    Session s;
    s.id = SessionId(in.get<std::uint64_t>());
    s.request = RequestNumber(in.get<std::uint64_t>());
    const ByteView result = in.get_bytes(limits::kResultBytes);
    if (!in.ok() || s.id.value() == 0 || s.id >= next) return false;
    s.result.assign(result.begin(), result.end());
    lru.push_back(std::move(s));
    if (!index.emplace(lru.back().id, std::prev(lru.end())).second) return false;
  }
  next_session_ = next;
  lru_ = std::move(lru);
  index_ = std::move(index);
  return true;
}

Checksum ClientTable::digest() const {
  Bytes bytes;
  snapshot(bytes);
  return checksum(bytes);
}

}  // namespace vsr
