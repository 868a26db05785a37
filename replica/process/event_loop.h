// The replica process's loop around the protocol core (architecture.md):
//
//   drain every inbound ring -> step the core -> flush the batch -> tick on time ->
//   sync the journal (sync mode batch) -> publish messages and replies -> publish
//   the status board -> sleep on the doorbell until a frame or the next tick (or nap
//   to the next tick: wait_mode.h).
//
// The order is the contract: nothing the core produced leaves the process before
// the journal writes it depends on are durable. One exception, in sync mode batch with
// a BackgroundSync: a primary whose turn produced only Prepares, Commits and client
// replies sends them at once (none of them vouches for its own log) and has its log
// synced in the background; the core counts its own vote when that sync is reported.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "replica/core/replica.h"
#include "replica/process/background_sync.h"
#include "replica/process/tick_schedule.h"
#include "replica/process/turn_work.h"
#include "replica/process/wait_mode.h"
#include "shm/shm.h"

namespace vsr::process {

struct LoopOptions {
  std::chrono::microseconds tick{1000};
  // Missed ticks one turn replays beyond those of an idle wait (which the loop planned,
  // listening for frames; on this VM a 10 ms futex wait now and then lasts 20-29 ms); a
  // longer gap is not replayed (tick_schedule.h). Far below any timeout (60+ ticks).
  std::uint32_t max_ticks_replayed = 10;
  // A gap this long is logged: long enough to have fired a view-change timeout (60 ms
  // by default) had it been counted.
  std::chrono::milliseconds gap_worth_logging{50};
  bool sync_each_batch = false;  // sync mode batch
  // With a BackgroundSync: the longest a primary whose vote is not needed leaves the
  // entries it appended unsynced (its log's lag behind its backups after a power cut).
  std::chrono::microseconds lazy_sync_interval{10000};
  // Waiting well. After protocol work (anything but the idle primary's Commit
  // heartbeat), the loop yield-polls for the port's window, as the answer usually comes
  // within microseconds. With no such work for `idle_after`, it skips that window and
  // sleeps up to `idle_wait` between turns instead of one tick: every protocol timeout
  // is several ticks long, and a frame or a supervisor hint wakes it at once anyway. A
  // backup that only gets Prepares of committed ops naps instead (wait_mode.h).
  std::chrono::microseconds idle_after{20000};
  std::chrono::microseconds idle_wait{10000};
  // Where the loop tells its operator of each change of view or status, and why a view
  // change began (the replica's log). Null: nowhere.
  std::function<void(const std::string&)> log;
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
  std::uint64_t background_requests = 0;   // turns that left the log's sync to the thread
  std::uint64_t ticks_dropped = 0;         // ticks of gaps in which the loop did not run
};

class EventLoop {
 public:
  EventLoop(const LoopOptions& options, shm::Segment& segment, shm::ReplicaPort& port,
            Replica& replica, std::function<void()> sync,
            std::function<std::uint64_t()> state_digest,
            std::function<bool()> superblock_pending = {}, BackgroundSync* background = nullptr);
  ~EventLoop();
  // The port keeps a pointer to the loop (its local work): neither copied nor moved.
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop is set (SIGTERM/SIGINT). Returns when it has flushed and synced.
  void run(const std::atomic<bool>& stop);
  // One turn without waiting (tests drive it directly).
  std::size_t turn(std::chrono::steady_clock::time_point now);
  const LoopCounters& counters() const { return counters_; }

 private:
  void on_frame(shm::Endpoint from, std::uint16_t kind, ByteView body);
  void check_hints();
  void send_output();
  // The synchronous sync (sync mode batch): drains the background sync first.
  void sync_now();
  // Hands the core what is durable now: a completed background sync, or the
  // synchronous sync of the last turn.
  void report_durable();
  // Asks background_ to sync the primary's log when its vote is needed (or when the
  // last request is older than lazy_sync_interval and the log grew since).
  void request_background_sync(std::chrono::steady_clock::time_point now);
  void send_message(const Envelope& envelope);
  void send_replies(const Output& out);
  void publish_status(bool force, std::chrono::steady_clock::time_point now);
  // Whether the superblock changed since the last sync (false if the driver did not say).
  bool superblock_pending() const { return superblock_pending_ && superblock_pending_(); }
  void log_transition() const;
  // Counts (and, when long, logs) the ticks of a gap that are not replayed.
  void note_gap(const TickSchedule::Due& due);

  LoopOptions options_;
  shm::Segment& segment_;
  shm::ReplicaPort& port_;
  Replica& replica_;
  std::function<void()> sync_;
  std::function<std::uint64_t()> state_digest_;
  std::function<bool()> superblock_pending_;
  BackgroundSync* background_;
  std::uint64_t reported_sequence_ = 0;  // background_'s last completion handed to the core
  bool synced_last_turn_ = false;        // a synchronous sync to report at the next turn
  OpNumber requested_op_;                // what background_ was last asked to cover
  std::uint64_t requested_rewrites_ = 0;
  std::chrono::steady_clock::time_point last_request_;
  LoopCounters counters_;
  TickSchedule ticks_;
  std::vector<std::uint64_t> down_seen_;
  Bytes encoded_;
  shm::StatusUpdate last_status_;
  std::chrono::steady_clock::time_point last_beat_;
  WaitMode wait_mode_;
  TurnWorkSeen turn_work_;  // what this turn received and sent (turn_work.h)
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
