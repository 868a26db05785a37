#include "shm/fragment.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"

namespace vsr::shm {

void encode_message(const FrameHeader& header, ByteView body, std::byte* out) {
  VSR_ASSERT(body.size() <= kMaxMessageBytes);
  const std::size_t count = fragment_count(body.size());
  FrameHeader h = header;
  h.message_length = static_cast<std::uint32_t>(body.size());
  h.fragment_count = static_cast<std::uint32_t>(count);
  std::size_t at = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t offset = i * kMaxFragmentBodyBytes;
    const std::size_t size = std::min(kMaxFragmentBodyBytes, body.size() - offset);
    h.fragment_index = static_cast<std::uint32_t>(i);
    at += encode_frame(h, body.subspan(offset, size), out + at);
  }
  VSR_ASSERT(at == framed_bytes(body.size()));
}

void Reassembler::abandon() {
  if (active_) ++discarded_;
  active_ = false;
  buffer_used_ = 0;
}

void Reassembler::append(ByteView body) {
  VSR_ASSERT(buffer_used_ + body.size() <= message_length_);
  std::memcpy(buffer_.get() + buffer_used_, body.data(), body.size());
  buffer_used_ += body.size();
}

Reassembler::Outcome Reassembler::feed(const FrameHeader& h, ByteView body) {
  VSR_ASSERT(h.fragment_index < h.fragment_count);
  VSR_ASSERT(h.message_length <= kMaxMessageBytes);
  message_ = {};
  if (h.fragment_index == 0) {
    abandon();  // a new message starts: whatever was in progress will never complete
    if (h.fragment_count == 1) {
      VSR_ASSERT(body.size() == h.message_length);
      message_ = body;
      return Outcome::complete;
    }
    // Give back the memory of an earlier big message before taking more.
    if (buffer_capacity_ > kBufferKeepBytes && h.message_length <= kBufferKeepBytes) {
      buffer_.reset();
      buffer_capacity_ = 0;
    }
    if (buffer_capacity_ < h.message_length) {
      buffer_ = std::make_unique_for_overwrite<std::byte[]>(h.message_length);
      buffer_capacity_ = h.message_length;
    }
    active_ = true;
    message_id_ = h.message_id;
    message_length_ = h.message_length;
    kind_ = h.kind;
    next_index_ = 1;
    append(body);
    return Outcome::partial;
  }
  if (!active_ || h.message_id != message_id_ || h.message_length != message_length_ ||
      h.kind != kind_ || h.fragment_index != next_index_) {
    abandon();
    return Outcome::rejected;
  }
  append(body);
  ++next_index_;
  if (next_index_ < h.fragment_count) return Outcome::partial;
  VSR_ASSERT(buffer_used_ == message_length_);
  active_ = false;
  message_ = ByteView(buffer_.get(), buffer_used_);
  return Outcome::complete;
}

}  // namespace vsr::shm
