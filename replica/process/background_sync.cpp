#include "replica/process/background_sync.h"

#include <utility>

#include "common/assert.h"

namespace vsr::process {

BackgroundSync::BackgroundSync(std::function<void()> sync, std::function<void()> wake)
    : sync_(std::move(sync)), wake_(std::move(wake)), thread_([this] { run(); }) {}

BackgroundSync::~BackgroundSync() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  requested_cv_.notify_one();
  thread_.join();
}

void BackgroundSync::request(OpNumber op, std::uint64_t rewrites) {
  {
    std::lock_guard lock(mutex_);
    VSR_ASSERT(!stop_);
    requested_ = Mark{requested_.sequence + 1, op, rewrites};
  }
  requested_cv_.notify_one();
}

BackgroundSync::Mark BackgroundSync::completed() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

void BackgroundSync::drain() {
  std::unique_lock lock(mutex_);
  completed_cv_.wait(lock, [this] { return completed_.sequence == requested_.sequence; });
}

std::uint64_t BackgroundSync::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

void BackgroundSync::run() {
  for (;;) {
    Mark covering;
    {
      std::unique_lock lock(mutex_);
      // Stopping still finishes what was requested: a replica stopping cleanly leaves
      // its log durable (the event loop syncs once more after this anyway).
      requested_cv_.wait(lock,
                         [this] { return stop_ || requested_.sequence != completed_.sequence; });
      if (requested_.sequence == completed_.sequence) return;  // stop_, nothing left
      covering = requested_;  // every write made before this request has completed
    }
    sync_();
    {
      std::lock_guard lock(mutex_);
      completed_ = covering;
      ++syncs_;
      completed_sequence_.store(covering.sequence, std::memory_order_release);
    }
    completed_cv_.notify_all();
    // After publishing: the woken event loop must find the completion.
    if (wake_) wake_();
  }
}

}  // namespace vsr::process
