#include "shm/status_board.h"

#include "shm/doorbell.h"

namespace vsr::shm {

void StatusBoard::begin_write() {
  std::uint64_t s = sequence_.load(std::memory_order_relaxed);
  // A predecessor killed mid-update left the count odd: continue from the next even.
  if (s % 2 == 1) ++s;
  sequence_.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}

void StatusBoard::end_write() {
  heartbeat_.store(heartbeat_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  updated_ns_.store(static_cast<std::uint64_t>(detail::monotonic_now().count()),
                    std::memory_order_relaxed);
  sequence_.store(sequence_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

void StatusBoard::publish(const StatusUpdate& u) {
  begin_write();
  pid_.store(u.pid, std::memory_order_relaxed);
  incarnation_.store(u.incarnation, std::memory_order_relaxed);
  role_.store(u.role, std::memory_order_relaxed);
  status_.store(u.status, std::memory_order_relaxed);
  view_.store(u.view, std::memory_order_relaxed);
  op_.store(u.op, std::memory_order_relaxed);
  commit_.store(u.commit, std::memory_order_relaxed);
  commit_checksum_.store(u.commit_checksum, std::memory_order_relaxed);
  state_digest_.store(u.state_digest, std::memory_order_relaxed);
  end_write();
}

void StatusBoard::beat() {
  begin_write();
  end_write();
}

ReplicaStatus StatusBoard::read() const {
  constexpr int kAttempts = 64;
  ReplicaStatus s;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const std::uint64_t before = sequence_.load(std::memory_order_acquire);
    s.pid = pid_.load(std::memory_order_relaxed);
    s.incarnation = incarnation_.load(std::memory_order_relaxed);
    s.role = role_.load(std::memory_order_relaxed);
    s.status = status_.load(std::memory_order_relaxed);
    s.view = view_.load(std::memory_order_relaxed);
    s.op = op_.load(std::memory_order_relaxed);
    s.commit = commit_.load(std::memory_order_relaxed);
    s.commit_checksum = commit_checksum_.load(std::memory_order_relaxed);
    s.state_digest = state_digest_.load(std::memory_order_relaxed);
    s.heartbeat = heartbeat_.load(std::memory_order_relaxed);
    s.updated_ns = updated_ns_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    const std::uint64_t after = sequence_.load(std::memory_order_relaxed);
    if (before == after && before % 2 == 0) {
      s.consistent = true;
      return s;
    }
  }
  s.consistent = false;
  return s;
}

}  // namespace vsr::shm
