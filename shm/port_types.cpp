#include "shm/port_types.h"

namespace vsr::shm {

const char* to_string(SendError error) {
  switch (error) {
    case SendError::none:
      return "queued";
    case SendError::link_cut:
      return "dropped: the link to the destination is cut";
    case SendError::outbox_full:
      return "dropped: the destination's outbox is full";
    case SendError::too_big:
      return "dropped: the body exceeds kMaxMessageBytes (64 MiB)";
    case SendError::stale_generation:
      return "dropped: the client slot has another owner now (stale generation)";
  }
  return "unknown";
}

}  // namespace vsr::shm
