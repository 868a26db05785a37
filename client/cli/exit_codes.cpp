#include "client/cli/exit_codes.h"

namespace vsr::client::cli {

int exit_code_for(Status status) {
  switch (status) {
    case Status::ok:
      return kExitSuccess;
    case Status::not_found:
    case Status::cas_mismatch:
    case Status::too_large:
      return kExitNegative;
    case Status::invalid_argument:
      return kExitUsage;
    case Status::timed_out:
    case Status::session_evicted:
    case Status::unavailable:
      return kExitUnavailable;
  }
  return kExitUnavailable;
}

}  // namespace vsr::client::cli
