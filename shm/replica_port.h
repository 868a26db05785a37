// A replica process's view of the transport: frames to and from every other replica and
// every client slot, and its doorbell.
//
// Constructing one claims the replica id in the segment (a live process holding it makes
// the constructor throw Error(busy); a dead one's claim is taken over, with a new
// incarnation). Nothing leaves the process until flush(). Single-threaded.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>

#include "common/codec.h"
#include "shm/endpoint.h"
#include "shm/port_core.h"
#include "shm/port_types.h"
#include "shm/segment.h"

namespace vsr::shm {

class ReplicaPort {
 public:
  // The segment's mapping must outlive the port.
  ReplicaPort(Segment& segment, std::uint32_t replica_id, const PortOptions& options = {});
  ReplicaPort(ReplicaPort&&) noexcept;
  ReplicaPort& operator=(ReplicaPort&&) noexcept;
  ~ReplicaPort();  // releases the replica id

  std::uint32_t id() const { return id_; }
  // The claim generation of this replica id: bumps every time a process takes it over.
  std::uint32_t incarnation() const { return incarnation_; }
  // The attaching process's pid, read once (getpid() is a system call).
  std::uint32_t pid() const { return pid_; }

  // Queues a message to another replica or to a client slot (`to.generation` must be the
  // generation the client's frames carried). False (and counted) if dropped: link cut,
  // outbox full, body over kMaxMessageBytes, or the slot has another owner by now.
  SendResult send(Endpoint to, std::uint16_t kind, ByteView body);
  // Pushes queued frames that fit (whole frames, one push per destination) and rings the
  // doorbells of receivers that sleep. Call it once per event-loop turn, after sends.
  void flush();
  // Calls on_message(Endpoint from, std::uint16_t kind, ByteView body) for every whole,
  // valid message in every inbound ring; `body` is valid only during the call. The
  // callback may send() and flush(), not poll(). Returns the number of messages.
  template <typename F>
  std::size_t poll(F&& on_message) {
    return core_->poll(detail::make_sink(on_message));
  }
  // Waits for work: inbound frames, queued frames that now fit, or a doorbell ring (e.g.
  // a supervisor hint). Yield-polls while recently busy, then sleeps on the doorbell.
  // Returns false if `timeout` passed with nothing to do. `may_spin` false skips the
  // yield-polling window: the caller knows no answer is coming soon (say, it only
  // exchanged heartbeats), so polling would burn CPU for nothing.
  bool wait(std::chrono::microseconds timeout, bool may_spin = true);
  // Sleeps until `timeout` passes or the doorbell is rung unconditionally (a supervisor
  // hint), without declaring sleep: senders do not pay for waking us. For a consumer
  // whose messages can wait (a backup whose Prepares are committed already), which
  // then takes what its rings gathered in one go.
  void nap(std::chrono::microseconds timeout);
  // See PortCore::set_local_work: work from a thread of this process that wait() must
  // not sleep through (the thread publishes, then rings this replica's doorbell).
  void set_local_work(bool (*check)(const void* context), const void* context);

  const Counters& counters() const { return core_->counters(); }
  std::size_t pending_bytes() const { return core_->pending_bytes(); }
  // This replica's status board (advisory; see status_board.h).
  StatusBoard& status() { return *status_; }

 private:
  void build_links(Segment& segment, const PortOptions& options);
  void release_claim();

  // Pointers into the mapping (see PortCore): the Segment object may move.
  OwnerSlot* owner_;
  StatusBoard* status_;
  std::uint32_t replica_count_;
  std::uint32_t client_slots_;
  std::uint32_t id_;
  std::uint32_t incarnation_ = 0;
  std::uint32_t pid_ = 0;
  std::unique_ptr<detail::PortCore> core_;
  std::array<std::size_t, kMaxReplicas> replica_destination_{};  // send() index per replica
  std::size_t first_client_destination_ = 0;                     // + slot
};

}  // namespace vsr::shm
