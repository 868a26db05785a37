#include "shm/replica_port.h"

#include "common/assert.h"

namespace vsr::shm {

ReplicaPort::ReplicaPort(Segment& segment, std::uint32_t replica_id, const PortOptions& options)
    : owner_(nullptr),
      status_(nullptr),
      replica_count_(segment.replica_count()),
      client_slots_(segment.client_slots()),
      id_(replica_id) {
  const std::uint32_t n = replica_count_;
  if (replica_id >= n) {
    throw Error(ErrorCode::invalid_argument, "replica id " + std::to_string(replica_id) +
                                                 " is out of range: cluster '" + segment.cluster() +
                                                 "' has " + std::to_string(n) + " replicas");
  }
  const ProcessIdentity self = self_identity();
  const ClaimResult claim = try_claim(segment.replica_owner(replica_id), self, true);
  if (!claim.claimed) {
    throw Error(ErrorCode::busy, "replica " + std::to_string(replica_id) + " of cluster '" +
                                     segment.cluster() + "' is already attached by running pid " +
                                     std::to_string(claim.holder_pid) +
                                     ": one process per replica id; stop that one first");
  }
  incarnation_ = claim.generation;
  pid_ = self.pid;
  owner_ = &segment.replica_owner(replica_id);
  status_ = &segment.status(replica_id);
  try {
    build_links(segment, options);
  } catch (...) {
    release(*owner_, pid_, incarnation_);
    throw;
  }
}

void ReplicaPort::build_links(Segment& segment, const PortOptions& options) {
  const std::uint32_t replica_id = id_;
  const std::uint32_t n = segment.replica_count();
  const std::uint32_t s = segment.client_slots();
  Doorbell& bell = segment.replica_doorbell(replica_id);
  core_ = std::make_unique<detail::PortCore>(segment, Endpoint::replica(replica_id), bell, options);
  // A predecessor killed asleep left its flag set (it would only cost producers a wake).
  bell.sleeping.store(0, std::memory_order_relaxed);
  for (std::uint32_t r = 0; r < n; ++r) {
    if (r == replica_id) continue;
    replica_destination_[r] =
        core_->add_outbound(Endpoint::replica(r), RingRef(&segment.replica_ring(replica_id, r)),
                            segment.replica_doorbell(r));
  }
  for (std::uint32_t slot = 0; slot < s; ++slot) {
    const std::size_t destination = core_->add_outbound(
        Endpoint::client(slot, 0), RingRef(&segment.replica_to_client_ring(replica_id, slot)),
        segment.client_doorbell(slot));
    if (slot == 0) first_client_destination_ = destination;
    VSR_ASSERT(destination == first_client_destination_ + slot);
  }
  for (std::uint32_t r = 0; r < n; ++r) {
    if (r != replica_id) {
      core_->add_inbound(Endpoint::replica(r), RingRef(&segment.replica_ring(r, replica_id)));
    }
  }
  for (std::uint32_t slot = 0; slot < s; ++slot) {
    core_->add_inbound(Endpoint::client(slot, 0),
                       RingRef(&segment.client_to_replica_ring(slot, replica_id)));
  }
}

ReplicaPort::ReplicaPort(ReplicaPort&&) noexcept = default;

ReplicaPort& ReplicaPort::operator=(ReplicaPort&& other) noexcept {
  if (this != &other) {
    release_claim();
    owner_ = other.owner_;
    status_ = other.status_;
    replica_count_ = other.replica_count_;
    client_slots_ = other.client_slots_;
    id_ = other.id_;
    incarnation_ = other.incarnation_;
    pid_ = other.pid_;
    core_ = std::move(other.core_);
    replica_destination_ = other.replica_destination_;
    first_client_destination_ = other.first_client_destination_;
  }
  return *this;
}

ReplicaPort::~ReplicaPort() {
  release_claim();
}

void ReplicaPort::release_claim() {
  // A moved-from port has no core and owns nothing.
  if (core_) release(*owner_, pid_, incarnation_);
  core_.reset();
}

SendResult ReplicaPort::send(Endpoint to, std::uint16_t kind, ByteView body) {
  VSR_ASSERT_MSG(core_ != nullptr, "send on a moved-from replica port");
  if (to.is_replica()) {
    VSR_ASSERT_MSG(to.index < replica_count_ && to.index != id_,
                   "send to an unknown replica or to self");
    return core_->send(replica_destination_[to.index], kind, body, 0);
  }
  VSR_ASSERT_MSG(to.is_client() && to.index < client_slots_, "send to unknown slot");
  return core_->send(first_client_destination_ + to.index, kind, body, to.generation);
}

void ReplicaPort::flush() {
  VSR_ASSERT_MSG(core_ != nullptr, "flush on a moved-from replica port");
  core_->flush();
}

void ReplicaPort::set_local_work(bool (*check)(const void* context), const void* context) {
  VSR_ASSERT_MSG(core_ != nullptr, "set_local_work on a moved-from replica port");
  core_->set_local_work(check, context);
}

bool ReplicaPort::wait(std::chrono::microseconds timeout, bool may_spin) {
  VSR_ASSERT_MSG(core_ != nullptr, "wait on a moved-from replica port");
  return core_->wait(timeout, may_spin);
}

void ReplicaPort::nap(std::chrono::microseconds timeout) {
  VSR_ASSERT_MSG(core_ != nullptr, "nap on a moved-from replica port");
  core_->nap(timeout);
}

}  // namespace vsr::shm
