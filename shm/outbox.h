// A per-destination outbox: encoded frames that did not fit in the ring yet.
//
// Sending never blocks: send() encodes a message's frames here, flush() moves the
// longest prefix of whole frames that fits into the ring with one push. The outbox is
// bounded (bytes_max); a message that would exceed the bound is refused whole, so an
// outbox never holds part of a message. Process-local memory, grown on demand and given
// back once a big backlog has drained.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/codec.h"

namespace vsr::shm {

class Outbox {
 public:
  explicit Outbox(std::size_t bytes_max);

  std::size_t bytes_max() const { return bytes_max_; }
  std::size_t pending_bytes() const { return tail_ - head_; }
  std::size_t pending_frames() const { return frames_; }
  bool empty() const { return head_ == tail_; }
  // True if `bytes` more would stay within the bound.
  bool fits(std::size_t bytes) const { return pending_bytes() + bytes <= bytes_max_; }

  // Room for `bytes` more (fits() must hold); the caller writes `frames` whole frames there.
  std::byte* append(std::size_t bytes, std::size_t frames);

  struct Prefix {
    std::size_t bytes = 0;
    std::size_t frames = 0;
  };
  // The longest prefix of whole queued frames that takes at most `space` bytes.
  Prefix fitting_prefix(std::size_t space) const;
  ByteView pending() const { return ByteView(data_.get() + head_, pending_bytes()); }
  // Size of the first queued frame (0 if empty).
  std::size_t first_frame_bytes() const;
  void consume(const Prefix& prefix);
  // Drops everything queued; returns the number of frames dropped.
  std::size_t clear();

 private:
  void make_room(std::size_t bytes);

  std::size_t bytes_max_;
  std::unique_ptr<std::byte[]> data_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;  // first byte not yet pushed
  std::size_t tail_ = 0;  // end of queued bytes
  std::size_t frames_ = 0;
};

}  // namespace vsr::shm
