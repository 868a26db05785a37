// Messages larger than one frame: splitting on the send side, reassembly on the receive side.
//
// A message of L body bytes becomes fragment_count(L) frames: full fragments of
// kMaxFragmentBodyBytes, then the rest. All carry the same message id, kind and
// message_length. Fragments of one message are queued back to back on one ring, so a
// receiver keeps one reassembly per inbound ring. A producer killed mid-message leaves
// a prefix of fragments; its successor's next message starts at fragment 0, which
// discards the interrupted reassembly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/codec.h"
#include "shm/frame.h"

namespace vsr::shm {

// Writes every frame of a message to `out` (framed_bytes(body.size()) bytes). `header`
// supplies the fields common to all fragments (cluster, message id, kind, sender,
// generation); the fragment fields are filled in here.
void encode_message(const FrameHeader& header, ByteView body, std::byte* out);

class Reassembler {
 public:
  enum class Outcome : std::uint8_t {
    complete,  // message() holds the whole body
    partial,   // fragment accepted, more to come
    rejected,  // fragment out of sequence: dropped, and any reassembly in progress discarded
  };

  // Feeds one frame that passed check_frame(). A single-fragment message is passed
  // through without copying. message() stays valid until the next feed().
  Outcome feed(const FrameHeader& header, ByteView body);
  ByteView message() const { return message_; }
  bool in_progress() const { return active_; }
  // Reassemblies abandoned because another message started or a fragment was missing.
  std::uint64_t discarded() const { return discarded_; }

 private:
  void abandon();
  void append(ByteView body);

  bool active_ = false;
  std::uint64_t message_id_ = 0;
  std::uint32_t message_length_ = 0;
  std::uint32_t next_index_ = 0;
  std::uint16_t kind_ = 0;
  std::uint64_t discarded_ = 0;
  // Grows to at most kMaxMessageBytes; uninitialised storage, so no zero-filling.
  std::unique_ptr<std::byte[]> buffer_;
  std::size_t buffer_capacity_ = 0;
  std::size_t buffer_used_ = 0;
  ByteView message_;
};

}  // namespace vsr::shm
