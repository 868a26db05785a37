// The replica process's loop around the protocol core (architecture.md):
//
//   drain every inbound ring -> step the core -> flush the batch -> tick on time ->
//   sync the journal (sync mode batch) -> publish messages and replies -> publish
//   the status board -> sleep on the doorbell until a frame or the next tick.
//
// The order is the contract: nothing the core produced leaves the process before
// the journal writes it depends on are durable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "replica/core/replica.h"
#include "shm/shm.h"

namespace vsr::process {

struct LoopOptions {
  std::chrono::microseconds tick{1000};
  // Most ticks run in one turn after the process was paused (SIGSTOP): enough for its
  // timeouts to fire, not so many that retransmissions pile up.
  std::uint32_t max_ticks_per_turn = 200;
  bool sync_each_batch = false;  // sync mode batch
  // Waiting well. After protocol work (anything but the idle primary's Commit
  // heartbeat), the loop yield-polls for the port's window, as the answer usually comes
  // within microseconds. With no such work for `idle_after`, it skips that window and
  // sleeps up to `idle_wait` between turns instead of one tick: every protocol timeout
  // is several ticks long, and a frame or a supervisor hint wakes it at once anyway.
  std::chrono::microseconds idle_after{20000};
  std::chrono::microseconds idle_wait{10000};
#ifdef VSR_TEST_BUGS
  // Test builds only: send first, sync later (every 200 ms): the review's
  // "sync before ack" step skipped. Used with storage write-behind by chaos teeth.
  bool send_before_sync = false;
#endif
};

struct LoopCounters {
  std::uint64_t turns = 0;
  std::uint64_t messages_in = 0;
  std::uint64_t requests_in = 0;
  std::uint64_t undecodable = 0;  // frames that passed the transport's checks but not ours
  std::uint64_t spoofed = 0;      // a replica message naming another sender
  std::uint64_t messages_out = 0;
  std::uint64_t replies_out = 0;
  std::uint64_t dropped_out = 0;
  std::uint64_t syncs = 0;
  std::uint64_t prepares_before_sync = 0;  // the primary's Prepares sent while its sync ran
};

class EventLoop {
 public:
  EventLoop(const LoopOptions& options, shm::Segment& segment, shm::ReplicaPort& port,
            Replica& replica, std::function<void()> sync,
            std::function<std::uint64_t()> state_digest,
            std::function<bool()> superblock_pending = {});

  // Runs until stop is set (SIGTERM/SIGINT). Returns when it has flushed and synced.
  void run(const std::atomic<bool>& stop);
  // One turn without waiting (tests drive it directly).
  std::size_t turn(std::chrono::steady_clock::time_point now);
  const LoopCounters& counters() const { return counters_; }

 private:
  void on_frame(shm::Endpoint from, std::uint16_t kind, ByteView body);
  void check_hints();
  void send_output();
  void send_message(const Envelope& envelope);
  void publish_status(bool force, std::chrono::steady_clock::time_point now);

  LoopOptions options_;
  shm::Segment& segment_;
  shm::ReplicaPort& port_;
  Replica& replica_;
  std::function<void()> sync_;
  std::function<std::uint64_t()> state_digest_;
  std::function<bool()> superblock_pending_;
  LoopCounters counters_;
  std::chrono::steady_clock::time_point next_tick_;
  std::vector<std::uint64_t> down_seen_;
  Bytes encoded_;
  shm::StatusUpdate last_status_;
  std::chrono::steady_clock::time_point last_beat_;
  std::chrono::steady_clock::time_point last_active_;  // last protocol work (not heartbeats)
  bool protocol_work_ = false;  // this turn received or sent more than a heartbeat
#ifdef VSR_TEST_BUGS
  std::chrono::steady_clock::time_point last_sync_;
#endif
};

// Client ids in the core are the transport's (slot, generation).
inline ClientId client_id(shm::Endpoint e) {
  return (std::uint64_t{e.index} << 32) | e.generation;
}
inline shm::Endpoint client_endpoint(ClientId id) {
  return shm::Endpoint::client(static_cast<std::uint32_t>(id >> 32),
                               static_cast<std::uint32_t>(id & 0xffffffffu));
}

// Status board encodings (shared with the supervisor and the client library).
enum class Role : std::uint32_t { backup = 0, primary = 1 };

}  // namespace vsr::process
