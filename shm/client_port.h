// A client process's view of the transport: one claimed client slot, with a ring to and
// a ring from every replica, and the slot's doorbell.
//
// claim() takes a free slot, or reclaims one whose owner died (pid gone, or pid reused:
// start time differs), bumping the slot's generation. Every frame the client sends
// carries that generation; replicas address replies with it, and the client drops
// frames of any other generation, so a dead owner's replies never reach the next owner.
// Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "common/codec.h"
#include "shm/endpoint.h"
#include "shm/port_core.h"
#include "shm/port_types.h"
#include "shm/segment.h"

namespace vsr::shm {

class ClientPort {
 public:
  // Throws Error(busy) if every slot is held by a running process. The segment's
  // mapping must outlive the port.
  static ClientPort claim(Segment& segment, const PortOptions& options = {});
  ClientPort(ClientPort&&) noexcept;
  ClientPort& operator=(ClientPort&&) noexcept;
  ~ClientPort();  // releases the slot

  std::uint32_t slot() const { return slot_; }
  std::uint32_t generation() const { return generation_; }
  Endpoint endpoint() const { return Endpoint::client(slot_, generation_); }

  // Queues a message to a replica. False (and counted) if dropped (outbox full, too big).
  SendResult send(std::uint32_t replica, std::uint16_t kind, ByteView body);
  void flush();
  // on_message(Endpoint from, std::uint16_t kind, ByteView body), `from` a replica; see
  // ReplicaPort::poll.
  template <typename F>
  std::size_t poll(F&& on_message) {
    return core_->poll(detail::make_sink(on_message));
  }
  bool wait(std::chrono::microseconds timeout);

  const Counters& counters() const { return core_->counters(); }
  std::size_t pending_bytes() const { return core_->pending_bytes(); }
  // Gives the slot back now (the destructor does it otherwise). The port is unusable after.
  void release();

 private:
  ClientPort(Segment& segment, std::uint32_t slot, std::uint32_t generation, std::uint32_t pid,
             const PortOptions& options);

  // Pointer into the mapping (see PortCore): the Segment object may move.
  OwnerSlot* owner_;
  ActiveSlots* active_;  // the segment's claimed-slot bits
  std::uint32_t replica_count_;
  std::uint32_t slot_;
  std::uint32_t generation_;
  std::uint32_t pid_;
  std::unique_ptr<detail::PortCore> core_;
};

}  // namespace vsr::shm
