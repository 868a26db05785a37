// How the transport reports errors.
//
// Setting up (create, attach, claim a slot or a replica id) throws shm::Error: these
// are rare, and the only sensible reaction is to print the message, which always says
// what to do next. The data path (send, flush, poll, wait) never throws: a dropped
// message is a SendResult plus a counter, a bad incoming frame is a counter, because
// the protocol above tolerates loss and a peer's garbage must never stop a replica.
// Broken invariants of our own code are VSR_ASSERTs (common/assert.h).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace vsr::shm {

enum class ErrorCode : std::uint8_t {
  invalid_argument,  // bad configuration from the caller (cluster name, N, slot count)
  not_found,         // no segment with that name
  already_running,   // create: a live supervisor owns the segment
  stale,             // the segment's creator is dead
  incomplete,        // the creator died (or is still) creating the segment
  corrupt,           // header does not verify (bad magic, checksum, sizes)
  mismatch,          // valid segment, but not the layout or cluster this process expects
  busy,              // replica id taken by a live process, or every client slot taken
  no_space,          // /dev/shm cannot hold the segment
  os_error,          // any other system call failure
};

const char* to_string(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace vsr::shm
