// vsr-client bench: a closed-loop load over the pipelined interface. Each of N sessions
// issues its next operation as soon as its previous one completes; latency is measured
// per operation from its first send to its reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "vsr/client.h"

namespace vsr::client::cli {

struct BenchOptions {
  std::size_t sessions = 1;
  double duration_s = 10;            // unless ops is set
  std::optional<std::uint64_t> ops;  // total operations instead of a duration
  std::size_t value_size = 64;       // bytes of each put
  double read_ratio = 0.5;           // gets among gets + puts
  std::uint64_t keys = 1000;         // keys bench-0 .. bench-(keys-1), chosen uniformly
  bool json = false;
};

int run_bench(const Options& options, const BenchOptions& bench);

}  // namespace vsr::client::cli
