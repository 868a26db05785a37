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

  Result execute(const Operation& op);
  std::size_t size() const { return map_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Hash {
    std::size_t operator()(const std::string& s) const noexcept;
  };
  static Checksum pair_hash(const std::string& key, const std::string& value);
  // Sets key to value (inserting if absent), keeping bytes_ and digest_ in step.
  Result store(const std::string& key, std::string value);

  StoreLimits limits_;
  boost::unordered_flat_map<std::string, std::string, Hash> map_;
  std::size_t bytes_ = 0;
  Checksum digest_ = 0;
};

}  // namespace vsr::kv
