// The sequential specification of one key of the key-value store, in the form the search wants:
// values interned to small integers, and each operation (with its outcome) compiled to a step
// that either accepts the state and gives the next one, or rejects it.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/history.h"
#include "common/checksum.h"

namespace vsr::check {

// An interned value of one key. kAbsent stands for "no value".
using StateId = std::uint32_t;
constexpr StateId kAbsent = 0;

class KeyModel {
 public:
  explicit KeyModel(const Value& initial);

  StateId initial() const { return initial_; }

  // Compiles a determinate or indeterminate operation; returns its step index (0, 1, ...).
  // Indeterminate gets have no effect and must not be added.
  std::uint32_t add(const OpRecord& record);

  // Applies step `index` to `state`: the next state, or nullopt if the operation's recorded
  // result is impossible in `state`.
  std::optional<StateId> step(StateId state, std::uint32_t index);

  Value value(StateId state) const;
  // Memory held by interned values and memoised appends, for the search's memory limit.
  std::size_t bytes() const { return bytes_; }

 private:
  enum class Kind : std::uint8_t {
    read,          // get ok: the state must be a
    write,         // put: becomes a
    del_ok,        // the key must exist; becomes absent
    del_fail,      // the key must be absent
    del_unknown,   // becomes absent either way
    cas_ok,        // the state must be a; becomes b
    cas_fail,      // the state must differ from a
    cas_fail_saw,  // the state must differ from a and be b (the value the failure reported)
    cas_unknown,   // becomes b if the state is a, else unchanged
    append,        // becomes state + suffixes_[a] (absent counts as empty)
  };
  struct Step {
    Kind kind;
    StateId a = kAbsent;
    StateId b = kAbsent;
  };

  StateId intern(const Value& value);
  StateId intern(std::string&& value);
  StateId append(StateId state, std::uint32_t index, std::uint32_t suffix);

  std::vector<Step> steps_;
  std::vector<std::string> suffixes_;
  // Interned values live in a deque so the map's string_view keys stay valid as it grows.
  // Values grow long under appends; XXH3 hashes them far faster than boost::hash's byte loop.
  struct ValueHash {
    using is_avalanching = void;
    std::size_t operator()(std::string_view v) const { return checksum(v.data(), v.size()); }
  };
  std::deque<std::string> values_;
  boost::unordered_flat_map<std::string_view, StateId, ValueHash> ids_;
  // (state, step index) -> state, so each append concatenates a given pair of strings once.
  boost::unordered_flat_map<std::uint64_t, StateId> appended_;
  StateId initial_ = kAbsent;
  std::size_t bytes_ = 0;
};

}  // namespace vsr::check
