// The sequential specification of one key of the key-value store, in the form the search wants:
// values interned to small integers, and each operation (with its outcome) compiled to a step
// that either accepts the state and gives the next one, or rejects it.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "check/history.h"
#include "common/checksum.h"

namespace vsr::check {

// An interned value of one key. kAbsent stands for "no value". kUnreadable stands for every
// value that no operation of the key can ever see (see KeyModel::seal()).
using StateId = std::uint32_t;
constexpr StateId kAbsent = 0;
constexpr StateId kUnreadable = 1;

class KeyModel {
 public:
  explicit KeyModel(const Value& initial);

  StateId initial() const;

  // Compiles a determinate or indeterminate operation; returns its step index (0, 1, ...).
  // Indeterminate gets have no effect and must not be added.
  std::uint32_t add(const OpRecord& record);

  // Called once, after the last add() and before the first step(): merges the values no
  // operation can ever see into one state.
  //
  // Every test a step makes of the value is an equality with a value the history names (a
  // read's result, a cas's expected or reported value) or with "absent". A present value that
  // is not a prefix of any such value can never pass one, nor can anything appends make of
  // it: all such values take every step alike (reads and cas_ok fail, cas_fail passes,
  // del_ok makes it absent, writes replace it) and stay alike. Configurations that differ only
  // in which of them the key holds have the same futures, so the memo may treat them as one.
  // Without this, every order of a few concurrent appends that nobody reads is a state of its
  // own, and a long history multiplies them.
  void seal();

  // Applies step `index` to `state`: the next state, or nullopt if the operation's recorded
  // result is impossible in `state`.
  std::optional<StateId> step(StateId state, std::uint32_t index);

  // The value after applying `steps` (each one accepted) in order from the initial value,
  // with kUnreadable values spelled out: for reports.
  Value replay(std::span<const std::uint32_t> steps) const;
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
  // The text of interned value `id` (not kUnreadable, which has none).
  Value text(StateId id) const;
  // Whether `value` (present) is a prefix of a value a step compares with.
  bool prefix_of_compared(std::string_view value) const;
  // The state that stands for interned value `id`: itself or kUnreadable.
  StateId state_of(StateId id) const { return unreadable_[id] ? kUnreadable : id; }

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
  // The distinct present values a step compares with, sorted; filled by seal().
  std::vector<std::string_view> compared_;
  // By StateId: the value is present and not prefix_of_compared().
  std::vector<bool> unreadable_;
  bool sealed_ = false;
  StateId initial_ = kAbsent;
  std::size_t bytes_ = 0;
};

}  // namespace vsr::check
