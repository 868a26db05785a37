// Linearizability checking of a key-value history.
//
//   const vsr::check::CheckResult result = vsr::check::check(history, {.timeout = 10s});
//   if (result.verdict == vsr::check::Verdict::not_linearizable)
//     vsr::check::print_result(std::cerr, history, result);  // check/report.h
//
// Linearizability is compositional, so each key is checked on its own: a search in the
// manner of Wing & Gong with Lowe's memoisation of (set of linearized operations, value).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/history.h"

namespace vsr::check {

struct Options {
  // Wall-clock budget of the whole check; zero means no limit.
  std::chrono::nanoseconds timeout = std::chrono::seconds(60);
  // Memory the searches (all keys together) may hold in memoised states and values; past it,
  // the hungriest key is given up as unknown and the others go on.
  std::size_t memory_limit_bytes = std::size_t{4} << 30;
};

enum class Verdict : std::uint8_t { linearizable, not_linearizable, unknown };
std::string_view to_string(Verdict verdict);

// One of the operations that could not come next at the deepest point of the search.
struct Stuck {
  OpId op;
  // true: its result contradicts the key's value at that point (or it may not run there);
  // false: it could run, but no complete linearization continues after it.
  bool contradicts = false;
};

// Why a key is not linearizable, from the deepest point the search reached: the longest
// prefix of a linearization it found, after which every candidate failed.
struct Failure {
  std::string key;
  std::size_t key_ops = 0;       // operations of the key the search considered
  std::vector<OpId> linearized;  // the prefix, in linearization order
  Value value;                   // the key's value after the prefix
  std::vector<Stuck> stuck;      // every operation that could have come next, in call order
};

struct CheckResult {
  Verdict verdict = Verdict::linearizable;
  std::optional<Failure> failure;  // set iff verdict == not_linearizable
  std::string unknown_reason;      // set iff verdict == unknown
  std::uint64_t states_explored = 0;
};

CheckResult check(const History& history, const Options& options = {});

}  // namespace vsr::check
