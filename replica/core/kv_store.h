// The built-in key-value store: get, put, del, cas, append.
//
// Bounded: at most `max_keys` keys and `max_bytes` of keys plus values; an
// operation that would exceed either is refused with too_large (deterministically,
// on every replica). The digest is maintained incrementally as the sum of one hash
// per (key, value) pair, so comparing replicas costs nothing and does not depend
// on iteration order.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/unordered/unordered_flat_map.hpp>

#include "replica/core/kv_operation.h"
#include "replica/core/state_machine.h"

namespace vsr::kv {

struct StoreLimits {
  std::size_t max_keys = 1'000'000;
  std::size_t max_bytes = 32 * 1024 * 1024;
};

class Store final : public StateMachine {
 public:
  explicit Store(StoreLimits limits = {}) : limits_(limits) {}

  bool valid(ByteView operation) const override;
  void apply(ByteView operation, Bytes& result) override;
  void snapshot(Bytes& out) const override;
  bool restore(ByteView snapshot) override;
  Checksum digest() const override { return digest_; }

  Result execute(const OperationView& op);
  Result execute(const Operation& op) { return execute(view_of(op)); }
  std::size_t size() const { return map_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  // Transparent: lookups by string_view (a request's key, in place) build no string.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept;
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
  };
  static Checksum pair_hash(std::string_view key, std::string_view value);
  // Sets key to value (inserting if absent), keeping bytes_ and digest_ in step. An
  // existing key's value is overwritten in place (no allocation when it fits).
  Result store(std::string_view key, std::string_view value);

  StoreLimits limits_;
  boost::unordered_flat_map<std::string, std::string, Hash, Equal> map_;
  std::size_t bytes_ = 0;
  Checksum digest_ = 0;
};

}  // namespace vsr::kv
