#include "replica/core/kv_store.h"

#include <algorithm>
#include <vector>

#include "common/assert.h"

namespace vsr::kv {

std::size_t Store::Hash::operator()(std::string_view s) const noexcept {
  return checksum(s.data(), s.size());
}

Checksum Store::pair_hash(std::string_view key, std::string_view value) {
  // Two one-shot hashes, the key's seeding the value's (and the key's length seeding
  // the key's, so "ab"+"c" and "a"+"bc" differ): a streaming state costs more than the
  // hashing itself for values this small, and this runs on every write.
  const Checksum key_hash = checksum(key.data(), key.size(), 0x6b76ULL ^ key.size());
  return checksum(value.data(), value.size(), key_hash);
}

bool Store::valid(ByteView operation) const {
  return decode_operation_view(operation).has_value();
}

void Store::apply(ByteView operation, Bytes& result) {
  const auto op = decode_operation_view(operation);
  // The primary refuses invalid operations before ordering them, so a committed
  // one that does not decode means the log itself is wrong.
  VSR_ASSERT_MSG(op.has_value(), "committed operation does not decode");
  encode(execute(*op), result);
}

Result Store::store(std::string_view key, std::string_view value) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    if (map_.size() >= limits_.max_keys || bytes_ + key.size() + value.size() > limits_.max_bytes) {
      return {ResultStatus::too_large, std::nullopt};
    }
    bytes_ += key.size() + value.size();
    digest_ += pair_hash(key, value);
    map_.emplace(std::string(key), std::string(value));
    return {};
  }
  if (bytes_ - it->second.size() + value.size() > limits_.max_bytes) {
    return {ResultStatus::too_large, std::nullopt};
  }
  digest_ -= pair_hash(key, it->second);
  bytes_ = bytes_ - it->second.size() + value.size();
  it->second.assign(value);
  digest_ += pair_hash(key, it->second);
  return {};
}

Result Store::execute(const OperationView& op) {
  switch (op.kind) {
    case OpKind::get: {
      auto it = map_.find(op.key);
      if (it == map_.end()) return {ResultStatus::not_found, std::nullopt};
      return {ResultStatus::ok, it->second};
    }
    case OpKind::put:
      return store(op.key, op.value);
    case OpKind::del: {
      auto it = map_.find(op.key);
      if (it == map_.end()) return {ResultStatus::not_found, std::nullopt};
      digest_ -= pair_hash(it->first, it->second);
      bytes_ -= it->first.size() + it->second.size();
      map_.erase(it);
      return {};
    }
    case OpKind::cas: {
      auto it = map_.find(op.key);
      if (it == map_.end()) return {ResultStatus::cas_mismatch, std::nullopt};
      if (it->second != op.expected) return {ResultStatus::cas_mismatch, it->second};
      return store(op.key, op.value);
    }
    case OpKind::append: {
      auto it = map_.find(op.key);
      std::string value = it == map_.end() ? std::string() : it->second;
      if (value.size() + op.value.size() > kMaxValueBytes) {
        return {ResultStatus::too_large, std::nullopt};
      }
      value += op.value;
      return store(op.key, value);
    }
  }
  VSR_ASSERT_MSG(false, "unknown operation kind");
}

void Store::snapshot(Bytes& out) const {
  // Sorted, so that equal states give equal snapshots on every replica.
  std::vector<const std::pair<const std::string, std::string>*> pairs;
  pairs.reserve(map_.size());
  for (const auto& kv : map_) pairs.push_back(&kv);
  std::sort(pairs.begin(), pairs.end(), [](auto* a, auto* b) { return a->first < b->first; });
  Writer w(out);
  w.put(static_cast<std::uint64_t>(pairs.size()));
  for (const auto* kv : pairs) {
    w.put_bytes(kv->first);
    w.put_bytes(kv->second);
  }
}

bool Store::restore(ByteView snapshot) {
  Reader r(snapshot);
  const auto count = r.get<std::uint64_t>();
  if (!r.ok() || count > limits_.max_keys) return false;
  decltype(map_) map;
  std::size_t bytes = 0;
  Checksum digest = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string key = r.get_string(kMaxKeyBytes);
    std::string value = r.get_string(kMaxValueBytes);
    if (!r.ok() || key.empty()) return false;
    bytes += key.size() + value.size();
    digest += pair_hash(key, value);
    if (!map.emplace(std::move(key), std::move(value)).second) return false;
  }
  if (!r.done() || bytes > limits_.max_bytes) return false;
  map_ = std::move(map);
  bytes_ = bytes;
  digest_ = digest;
  return true;
}

}  // namespace vsr::kv
