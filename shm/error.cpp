#include "shm/error.h"

namespace vsr::shm {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::already_running:
      return "already_running";
    case ErrorCode::stale:
      return "stale";
    case ErrorCode::incomplete:
      return "incomplete";
    case ErrorCode::corrupt:
      return "corrupt";
    case ErrorCode::mismatch:
      return "mismatch";
    case ErrorCode::busy:
      return "busy";
    case ErrorCode::no_space:
      return "no_space";
    case ErrorCode::os_error:
      return "os_error";
  }
  return "unknown";
}

}  // namespace vsr::shm
