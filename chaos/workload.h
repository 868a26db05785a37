// One chaos client process: random get/put/del/cas/append with unique values on a few
// keys until its deadline, every invocation and completion recorded (history_file.h).
// An operation that times out is recorded as indeterminate and the client carries on
// under a new identity (a new connection, session and process number), as Jepsen does.
//
// Keys "k<n>" take every kind of operation; keys "a<n>.<g>" take appends only, so that
// the final check can demand every acknowledged append be there exactly once. The
// generation g moves on every kAppendKeySeconds, so that no value outgrows the store's
// value limit, and every client appends to the same keys at the same time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace vsr::chaos {

struct WorkloadOptions {
  std::string cluster;
  std::uint32_t client = 0;   // 0..clients-1
  std::uint32_t clients = 1;  // process numbers are client, client + clients, ...
  std::uint32_t keys = 8;
  std::uint64_t seed = 0;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds op_timeout{2000};
  std::filesystem::path history;
  std::uint32_t rate = 200;  // operations per second, at most
  std::chrono::steady_clock::time_point start;
};

inline constexpr int kAppendKeySeconds = 5;

struct WorkloadCounts {
  std::uint64_t ok = 0;             // definite results (including not found, cas mismatch)
  std::uint64_t failed = 0;         // definitely not executed (unavailable, refused)
  std::uint64_t indeterminate = 0;  // timed out or session evicted
};

// Runs the workload in this process; returns its counts (also written to history
// as a trailing comment line for the parent).
WorkloadCounts run_workload(const WorkloadOptions& options);

// The keys the workload uses (general first, then append-only).
std::string general_key(std::uint32_t n);
std::string append_key(std::uint32_t n, std::uint64_t generation);
std::uint32_t general_keys(std::uint32_t keys);
std::uint32_t append_keys(std::uint32_t keys);

}  // namespace vsr::chaos
