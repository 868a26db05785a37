// The search over one key: is there an order of the key's operations that respects real time
// and the key-value specification (check/model.h)?
//
// A search runs in slices of a bounded number of steps, so check() can interleave the keys:
// a key that is quickly shown not linearizable ends the check even when another key's search
// would take very long.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "check/check.h"
#include "check/history.h"

namespace vsr::check {

// One key's share of a history.
struct KeyOps {
  std::string_view key;
  // The key's operations in invocation order; their position is their local index.
  // Indeterminate gets are left out: they have no effect.
  std::vector<OpId> ops;
  // Call and return events in real-time order, as 2 * local index (+1 for a return). The
  // returns of indeterminate operations come last: they may take effect arbitrarily late.
  std::vector<std::uint32_t> events;
};

class KeySearch {
 public:
  // `history` and `key` must outlive the search.
  KeySearch(const History& history, const KeyOps& key);
  ~KeySearch();
  KeySearch(const KeySearch&) = delete;
  KeySearch& operator=(const KeySearch&) = delete;

  // Runs up to `steps` more steps, stopping early at the deadline. Returns true once the
  // verdict is known (linearizable or not).
  bool run(std::uint64_t steps, std::optional<std::chrono::steady_clock::time_point> deadline);

  // Valid once run() returned true: the verdict and, if not linearizable, the failure.
  CheckResult result() const;
  std::uint64_t steps() const;
  // Memory held by memoised states and interned values.
  std::size_t bytes() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vsr::check
