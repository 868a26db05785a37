// Byte rings in shared memory: boost::lockfree::spsc_queue with a compile-time capacity.
//
// Such a queue is plain memory (two indices and an inline array, no pointers), so it
// can be placement-constructed in the segment and used from every process that maps it.
// Both indices live in the segment: a restarted producer or consumer continues from the
// published position. Exactly one process may push and one may pop a given ring.
//
// Frames are published with push_whole(): one push, and only when every byte fits, so
// the write index moves over whole frames only and a producer killed at any instruction
// never exposes part of a frame. The consumer pops everything available in one pop()
// (one read-index update), so a consumer killed while parsing resumes at a frame boundary.
#pragma once

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstddef>

#include "common/assert.h"
#include "common/codec.h"
#include "shm/limits.h"

namespace vsr::shm {

template <std::size_t CapacityBytes>
using ByteRing = boost::lockfree::spsc_queue<std::byte, boost::lockfree::capacity<CapacityBytes>>;

using ReplicaRing = ByteRing<kReplicaRingBytes>;
using ClientRing = ByteRing<kClientRingBytes>;

// Process-shared atomics must not hide a lock: a lock held by a killed process would
// stop everyone else.
static_assert(std::atomic<std::size_t>::is_always_lock_free);

// Publishes `bytes` with a single push if all of them fit; otherwise publishes nothing.
template <std::size_t C>
bool push_whole(ByteRing<C>& ring, ByteView bytes) {
  VSR_ASSERT(bytes.size() <= C);
  if (ring.write_available() < bytes.size()) return false;
  // Only this process pushes, so the space seen above can only have grown.
  const std::size_t pushed = ring.push(bytes.data(), bytes.size());
  VSR_ASSERT(pushed == bytes.size());
  return true;
}

// Pops everything available (at most `out_size` bytes) with one read-index update.
template <std::size_t C>
std::size_t pop_all(ByteRing<C>& ring, std::byte* out, std::size_t out_size) {
  return ring.pop(out, out_size);
}

// A process-local handle to either kind of ring, so the ports can keep one list of
// inbound and outbound rings. Two pointers and a branch: no virtual call on the hot path.
class RingRef {
 public:
  RingRef() = default;
  explicit RingRef(ReplicaRing* ring) : replica_(ring) {}
  explicit RingRef(ClientRing* ring) : client_(ring) {}

  bool valid() const { return replica_ != nullptr || client_ != nullptr; }
  std::size_t capacity() const { return replica_ ? kReplicaRingBytes : kClientRingBytes; }
  std::size_t read_available() const {
    return replica_ ? replica_->read_available() : client_->read_available();
  }
  std::size_t write_available() const {
    return replica_ ? replica_->write_available() : client_->write_available();
  }
  bool push_whole(ByteView bytes) {
    return replica_ ? shm::push_whole(*replica_, bytes) : shm::push_whole(*client_, bytes);
  }
  std::size_t pop_all(std::byte* out, std::size_t out_size) {
    return replica_ ? shm::pop_all(*replica_, out, out_size)
                    : shm::pop_all(*client_, out, out_size);
  }

 private:
  ReplicaRing* replica_ = nullptr;
  ClientRing* client_ = nullptr;
};

}  // namespace vsr::shm
