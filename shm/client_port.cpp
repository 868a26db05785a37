#include "shm/client_port.h"

#include "common/assert.h"

namespace vsr::shm {

ClientPort ClientPort::claim(Segment& segment, const PortOptions& options) {
  const ProcessIdentity self = self_identity();
  const std::uint32_t slots = segment.client_slots();
  // Free slots first: checking whether an owner is alive reads /proc.
  for (const bool reclaim_dead : {false, true}) {
    for (std::uint32_t slot = 0; slot < slots; ++slot) {
      const ClaimResult claim = try_claim(segment.client_owner(slot), self, reclaim_dead);
      if (!claim.claimed) continue;
      try {
        return ClientPort(segment, slot, claim.generation, self.pid, options);
      } catch (...) {
        shm::release(segment.client_owner(slot), self.pid, claim.generation);
        throw;
      }
    }
  }
  throw Error(ErrorCode::busy, "all " + std::to_string(slots) + " client slots of cluster '" +
                                   segment.cluster() +
                                   "' are held by running clients: stop a client, or restart "
                                   "the cluster with more --client-slots");
}

ClientPort::ClientPort(Segment& segment, std::uint32_t slot, std::uint32_t generation,
                       std::uint32_t pid, const PortOptions& options)
    : owner_(&segment.client_owner(slot)),
      active_(&segment.active_slots()),
      replica_count_(segment.replica_count()),
      slot_(slot),
      generation_(generation),
      pid_(pid) {
  Doorbell& bell = segment.client_doorbell(slot);
  core_ = std::make_unique<detail::PortCore>(segment, endpoint(), bell, options);
  for (std::uint32_t r = 0; r < segment.replica_count(); ++r) {
    const std::size_t destination =
        core_->add_outbound(Endpoint::replica(r), RingRef(&segment.client_to_replica_ring(slot, r)),
                            segment.replica_doorbell(r));
    VSR_ASSERT(destination == r);
    core_->add_inbound(Endpoint::replica(r), RingRef(&segment.replica_to_client_ring(r, slot)));
  }
  // Whatever the previous owner left unread is not ours (and would be dropped for its
  // generation anyway); a previous owner killed asleep left its flag set.
  core_->discard_inbound();
  bell.sleeping.store(0, std::memory_order_relaxed);
  // Replicas poll our rings from here on; before any push of ours (active_slots.h).
  active_->mark(slot_);
}

ClientPort::ClientPort(ClientPort&& other) noexcept
    : owner_(other.owner_),
      active_(other.active_),
      replica_count_(other.replica_count_),
      slot_(other.slot_),
      generation_(other.generation_),
      pid_(other.pid_),
      core_(std::move(other.core_)) {}

ClientPort& ClientPort::operator=(ClientPort&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    active_ = other.active_;
    replica_count_ = other.replica_count_;
    slot_ = other.slot_;
    generation_ = other.generation_;
    pid_ = other.pid_;
    core_ = std::move(other.core_);
  }
  return *this;
}

ClientPort::~ClientPort() {
  release();
}

void ClientPort::release() {
  // A moved-from or released port has no core and owns nothing.
  // The bit first: once the slot is released, a new owner's mark must not be undone.
  if (core_) {
    active_->clear(slot_);
    shm::release(*owner_, pid_, generation_);
  }
  core_.reset();
}

SendResult ClientPort::send(std::uint32_t replica, std::uint16_t kind, ByteView body) {
  VSR_ASSERT_MSG(core_ != nullptr, "send on a released client port");
  VSR_ASSERT_MSG(replica < replica_count_, "send to an unknown replica");
  return core_->send(replica, kind, body, generation_);
}

void ClientPort::flush() {
  VSR_ASSERT_MSG(core_ != nullptr, "flush on a released client port");
  core_->flush();
}

bool ClientPort::wait(std::chrono::microseconds timeout) {
  VSR_ASSERT_MSG(core_ != nullptr, "wait on a released client port");
  return core_->wait(timeout, true);
}

}  // namespace vsr::shm
