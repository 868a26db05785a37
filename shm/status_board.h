// Per-replica status board and supervisor hints: advisory facts for humans, the
// supervisor and clients. No protocol decision may depend on them.
//
// The board is written by its replica only and read by anyone. A sequence counter
// (odd while an update is in progress) lets a reader see one update whole; readers
// never wait for the writer (bounded retries, then a snapshot flagged inconsistent),
// so a replica killed mid-update cannot stall anyone, and its successor simply
// writes on.
#pragma once

#include <atomic>
#include <cstdint>

namespace vsr::shm {

// What a replica publishes. role and status are small integers opaque to the transport.
struct StatusUpdate {
  std::uint64_t pid = 0;
  std::uint64_t incarnation = 0;
  std::uint32_t role = 0;
  std::uint32_t status = 0;
  std::uint64_t view = 0;
  std::uint64_t op = 0;
  std::uint64_t commit = 0;
  // Opaque to the transport: the replica's fingerprints of what it committed (the
  // checksum of the entry at `commit`, which names the whole history before it, and a
  // digest of its state), so tools can compare replicas without asking them.
  std::uint64_t commit_checksum = 0;
  std::uint64_t state_digest = 0;
};

// What a reader sees: the last update, plus a heartbeat counter (bumped by each
// publish) and the CLOCK_MONOTONIC time of that publish.
struct ReplicaStatus : StatusUpdate {
  std::uint64_t heartbeat = 0;
  std::uint64_t updated_ns = 0;
  bool consistent = true;  // false: the writer was mid-update on every attempt
};

class alignas(64) StatusBoard {
 public:
  // Writer (the replica). Stamps heartbeat + 1 and the current monotonic time.
  void publish(const StatusUpdate& update);
  // Writer: bumps only the heartbeat and timestamp (a sign of life between changes).
  void beat();
  // Any reader.
  ReplicaStatus read() const;

 private:
  void begin_write();
  void end_write();

  std::atomic<std::uint64_t> sequence_{0};
  std::atomic<std::uint64_t> pid_{0};
  std::atomic<std::uint64_t> incarnation_{0};
  std::atomic<std::uint32_t> role_{0};
  std::atomic<std::uint32_t> status_{0};
  std::atomic<std::uint64_t> view_{0};
  std::atomic<std::uint64_t> op_{0};
  std::atomic<std::uint64_t> commit_{0};
  std::atomic<std::uint64_t> commit_checksum_{0};
  std::atomic<std::uint64_t> state_digest_{0};
  std::atomic<std::uint64_t> heartbeat_{0};
  std::atomic<std::uint64_t> updated_ns_{0};
};

// Per replica: how often the supervisor has seen it die. A replica compares it with
// the value it saw last to start a view change at once instead of after a timeout.
struct alignas(64) SupervisorHint {
  std::atomic<std::uint64_t> down_count{0};
};

}  // namespace vsr::shm
