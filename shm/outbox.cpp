#include "shm/outbox.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "shm/frame.h"

namespace vsr::shm {
namespace {

constexpr std::size_t kInitialBytes = 64 << 10;

std::uint32_t frame_length_at(const std::byte* frame) {
  std::uint32_t length = 0;
  std::memcpy(&length, frame + offsetof(FrameHeader, length), sizeof length);
  // We encoded it ourselves: anything else is memory corruption in this process.
  VSR_ASSERT(length >= kFrameHeaderBytes && length <= kMaxFrameBytes);
  return length;
}

}  // namespace

Outbox::Outbox(std::size_t bytes_max) : bytes_max_(bytes_max) {
  VSR_ASSERT(bytes_max >= kMaxFrameBytes);
}

void Outbox::make_room(std::size_t bytes) {
  if (tail_ + bytes <= capacity_) return;
  const std::size_t pending = pending_bytes();
  const std::size_t needed = pending + bytes;
  if (needed <= capacity_ && (head_ >= capacity_ / 2 || capacity_ == bytes_max_)) {
    // Enough room once the pushed prefix is gone: slide the rest down. (Sliding a
    // mostly-full buffer again and again would be quadratic, so below the bound a
    // buffer with a short pushed prefix grows instead.)
    std::memmove(data_.get(), data_.get() + head_, pending);
  } else {
    const std::size_t capacity =
        std::min(bytes_max_, std::max({needed, capacity_ * 2, kInitialBytes}));
    VSR_ASSERT(capacity >= needed);
    auto grown = std::make_unique_for_overwrite<std::byte[]>(capacity);
    if (pending > 0) std::memcpy(grown.get(), data_.get() + head_, pending);
    data_ = std::move(grown);
    capacity_ = capacity;
  }
  head_ = 0;
  tail_ = pending;
}

std::byte* Outbox::append(std::size_t bytes, std::size_t frames) {
  VSR_ASSERT(fits(bytes));
  VSR_ASSERT(frames >= 1 && frames * kFrameHeaderBytes <= bytes);
  make_room(bytes);
  std::byte* at = data_.get() + tail_;
  tail_ += bytes;
  frames_ += frames;
  return at;
}

std::size_t Outbox::first_frame_bytes() const {
  return empty() ? 0 : frame_length_at(data_.get() + head_);
}

Outbox::Prefix Outbox::fitting_prefix(std::size_t space) const {
  if (pending_bytes() <= space) return Prefix{pending_bytes(), frames_};
  Prefix prefix;
  while (prefix.frames < frames_) {
    const std::size_t length = frame_length_at(data_.get() + head_ + prefix.bytes);
    if (prefix.bytes + length > space) break;
    prefix.bytes += length;
    ++prefix.frames;
  }
  return prefix;
}

void Outbox::consume(const Prefix& prefix) {
  VSR_ASSERT(prefix.bytes <= pending_bytes() && prefix.frames <= frames_);
  VSR_ASSERT((prefix.bytes == 0) == (prefix.frames == 0));
  head_ += prefix.bytes;
  frames_ -= prefix.frames;
  if (head_ == tail_) {
    VSR_ASSERT(frames_ == 0);
    clear();
  }
}

std::size_t Outbox::clear() {
  const std::size_t dropped = frames_;
  head_ = tail_ = frames_ = 0;
  if (capacity_ > kBufferKeepBytes) {
    data_.reset();
    capacity_ = 0;
  }
  return dropped;
}

}  // namespace vsr::shm
