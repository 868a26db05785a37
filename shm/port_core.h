// The engine shared by ReplicaPort and ClientPort: outboxes and flushing, polling and
// frame validation, reassembly, and the doorbell wait. Internal: use the ports.
//
// Single-threaded: one port belongs to one thread of one process. The segment's mapping
// (the Segment object, or what it was moved into) must outlive the port.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/codec.h"
#include "shm/cpu_contention.h"
#include "shm/endpoint.h"
#include "shm/fragment.h"
#include "shm/outbox.h"
#include "shm/port_types.h"
#include "shm/ring.h"
#include "shm/segment.h"

namespace vsr::shm::detail {

// A borrowed callback, so that poll() can be a template in the port headers while the
// parsing stays in a .cpp.
struct MessageSink {
  void* context = nullptr;
  void (*call)(void* context, Endpoint from, std::uint16_t kind, ByteView body) = nullptr;
};

template <typename F>
MessageSink make_sink(F& on_message) {
  return MessageSink{static_cast<void*>(&on_message),
                     [](void* context, Endpoint from, std::uint16_t kind, ByteView body) {
                       (*static_cast<F*>(context))(from, kind, body);
                     }};
}

class PortCore {
 public:
  PortCore(Segment& segment, Endpoint self, Doorbell& bell, const PortOptions& options);
  PortCore(const PortCore&) = delete;
  PortCore& operator=(const PortCore&) = delete;

  // Set-up: returns the destination's index for send().
  std::size_t add_outbound(Endpoint to, RingRef ring, Doorbell& bell);
  void add_inbound(Endpoint from, RingRef ring);

  // `slot_generation` goes into the frames: 0 between replicas, the receiving slot's
  // generation for replica -> client, the sender's own for client -> replica.
  SendResult send(std::size_t destination, std::uint16_t kind, ByteView body,
                  std::uint32_t slot_generation);
  void flush();
  std::size_t poll(MessageSink sink);
  bool wait(std::chrono::microseconds timeout, bool may_spin);
  void nap(std::chrono::microseconds timeout);
  // Work that reaches this process outside its rings (a thread of its own finishing
  // something): wait() returns when `check(context)` is true. Whoever makes it true
  // publishes first and then rings this process's own doorbell, so a wait that began
  // just before cannot sleep through it. Null: none.
  void set_local_work(bool (*check)(const void* context), const void* context) {
    local_work_check_ = check;
    local_work_context_ = context;
  }
  // Pops and discards whatever the inbound rings hold (a new slot owner's first step).
  std::size_t discard_inbound();

  const Counters& counters() const { return counters_; }
  std::size_t pending_bytes() const;
  bool has_inbound_data() const;

 private:
  struct OutLink {
    Endpoint to;
    RingRef ring;
    Doorbell* bell = nullptr;
    Outbox outbox;
    bool dirty = false;            // in dirty_
    std::uint32_t generation = 0;  // client destinations: generation of queued frames
  };
  struct InLink {
    Endpoint from;
    RingRef ring;
    Reassembler reassembly;
  };

  bool link_up(const OutLink& out) const;
  // Whether `in` is worth polling: a replica skips the rings of unclaimed slots. (A
  // client port has no client links, so its empty snapshot is never consulted.)
  static bool polled(const InLink& in, const ActiveSlots::Snapshot& active) {
    return !in.from.is_client() || active.test(in.from.index);
  }
  ActiveSlots::Snapshot read_active() const {
    return active_slots_ != nullptr ? active_slots_->read() : ActiveSlots::Snapshot{};
  }
  bool outbox_can_progress() const;
  bool has_work() const {
    return has_inbound_data() || outbox_can_progress() ||
           (local_work_check_ != nullptr && local_work_check_(local_work_context_));
  }
  std::size_t parse(InLink& in, ByteView bytes, MessageSink sink);
  FrameError check_generation(const InLink& in, const FrameHeader& header,
                              std::uint32_t current_generation, bool& stale) const;
  void count(FrameError error);

  // Pointers into the mapping, not to the Segment object: a Segment may be moved while
  // ports exist (only its mapping must stay alive).
  const LinkMatrix* links_;
  const OwnerSlot* client_owners_;  // [slot]; null if the segment has no client slots
  // Replica ports: which slots' rings to poll (active_slots.h); null in client ports.
  const ActiveSlots* active_slots_;
  Endpoint self_;
  Doorbell& bell_;
  PortOptions options_;
  std::uint64_t cluster_id_;
  std::vector<OutLink> out_;
  std::vector<std::uint32_t> dirty_;   // destinations with queued frames
  std::vector<std::uint32_t> pushed_;  // destinations pushed to in this flush
  std::vector<InLink> in_;
  std::unique_ptr<std::byte[]> staging_;  // one ring's worth: a whole pop always fits
  std::size_t staging_bytes_ = 0;
  std::uint64_t next_message_id_;
  std::chrono::nanoseconds last_work_{0};  // when wait() last saw work had been done
  bool worked_ = false;                    // messages delivered or frames pushed since
  bool polling_ = false;
  CpuContention cpu_contention_;
  bool (*local_work_check_)(const void*) = nullptr;
  const void* local_work_context_ = nullptr;
  Counters counters_;
};

}  // namespace vsr::shm::detail
