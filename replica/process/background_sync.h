// The primary's log sync, off its event loop (sync mode batch).
//
// A synchronous fdatasync blocks the primary for a device flush (300-500 us here) per
// batch, during which it reads no PrepareOk and orders no request. The primary's own
// copy is only one vote of its commit quorum, and its Prepares claim nothing durable,
// so it may send them at once and let this thread make its log durable: the core then
// counts its own vote when the sync is reported (Replica::on_durable), and commits
// earlier on f+1 backups' acknowledgements if those come first.
//
// One thread per replica process, private to it (its mutex is in process memory, never
// in the shared segment). request() records what the next fdatasync must cover; the
// thread syncs, publishes the last covered request and calls `wake` (the replica rings
// its own doorbell so a waiting event loop turns at once). fdatasync of a file makes
// every write to it completed before the call durable, so one sync covers every request
// made before it started. A failed fdatasync is fatal, as it is on the main thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "replica/core/types.h"

namespace vsr::process {

class BackgroundSync {
 public:
  // What a sync covers: the log through `op`, as it was at the journal's rewrite count
  // `rewrites` (see Journal::rewrites()). `sequence` orders requests.
  struct Mark {
    std::uint64_t sequence = 0;
    OpNumber op;
    std::uint64_t rewrites = 0;
  };

  // `sync` makes every write completed so far durable (fdatasync of the log file) and
  // must be safe to call from another thread than the one writing. `wake` is called on
  // the sync thread after each completed sync.
  BackgroundSync(std::function<void()> sync, std::function<void()> wake);
  ~BackgroundSync();  // finishes the requested syncs, then joins
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  // Main thread, after the writes to cover have completed (pwrite returned).
  void request(OpNumber op, std::uint64_t rewrites);
  // The last request a completed sync covered (sequence 0: none yet).
  Mark completed() const;
  // completed().sequence without the lock: the event loop polls it every turn.
  std::uint64_t completed_sequence() const {
    return completed_sequence_.load(std::memory_order_acquire);
  }
  // Blocks until every request made so far is covered (before a synchronous sync, so
  // that nothing reports durable what an unfinished background sync still writes).
  void drain();
  std::uint64_t syncs() const;

 private:
  void run();

  std::function<void()> sync_;
  std::function<void()> wake_;
  mutable std::mutex mutex_;
  std::condition_variable requested_cv_;
  std::condition_variable completed_cv_;
  Mark requested_;
  Mark completed_;
  std::atomic<std::uint64_t> completed_sequence_{0};
  std::uint64_t syncs_ = 0;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members it uses exist
};

}  // namespace vsr::process
