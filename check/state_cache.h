// The search's memo (Lowe): the set of (linearized operations, value) configurations already
// explored. Reaching one again cannot lead anywhere new, so the search skips it.
//
// The set of linearized operations is a bitset over the key's operations. Its hash is kept
// incrementally (Zobrist: the XOR of a random word per set bit), so a lookup costs one probe
// plus a word-by-word compare on a hash match. Stored bitsets drop their leading all-ones and
// trailing all-zero words: a search mostly holds a linearized prefix and a few ops beyond.
#pragma once

#include <boost/unordered/unordered_flat_set.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "check/model.h"

namespace vsr::check {

class LinearizedSet {
 public:
  explicit LinearizedSet(std::size_t ops);

  void set(std::uint32_t op);
  void clear(std::uint32_t op);
  bool test(std::uint32_t op) const;
  std::uint64_t hash() const { return hash_; }
  const std::vector<std::uint64_t>& words() const { return words_; }

 private:
  std::vector<std::uint64_t> words_;
  std::vector<std::uint64_t> zobrist_;
  std::uint64_t hash_ = 0;
};

class StateCache {
 public:
  StateCache();
  StateCache(const StateCache&) = delete;
  StateCache& operator=(const StateCache&) = delete;

  // Records (linearized, state); false if it was recorded before.
  bool insert(const LinearizedSet& linearized, StateId state);
  bool contains(const LinearizedSet& linearized, StateId state) const;
  std::size_t size() const { return set_.size(); }
  std::size_t bytes() const;

 private:
  // A stored configuration: its words are arena_[offset, offset + count), standing for
  // words [first, first + count) of the bitset.
  struct Entry {
    std::uint64_t hash;
    std::uint64_t offset;
    std::uint32_t first;
    std::uint32_t count;
    StateId state;
  };
  // The configuration being looked up, not yet copied into the arena.
  struct Probe {
    std::uint64_t hash;
    const std::uint64_t* words;
    std::uint32_t first;
    std::uint32_t count;
    StateId state;
  };
  struct Hash {
    using is_transparent = void;
    // The stored hash is already well mixed, so the table need not mix it again.
    using is_avalanching = void;
    std::size_t operator()(const Entry& e) const { return e.hash; }
    std::size_t operator()(const Probe& p) const { return p.hash; }
  };
  static Probe probe(const LinearizedSet& linearized, StateId state);

  struct Equal {
    using is_transparent = void;
    const std::vector<std::uint64_t>* arena;
    bool operator()(const Entry& a, const Entry& b) const;
    bool operator()(const Probe& p, const Entry& e) const;
    bool operator()(const Entry& e, const Probe& p) const { return (*this)(p, e); }
  };

  std::vector<std::uint64_t> arena_;
  boost::unordered_flat_set<Entry, Hash, Equal> set_;
};

}  // namespace vsr::check
