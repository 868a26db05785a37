#include "replica/storage/sync_mode.h"

namespace vsr::storage {

std::optional<SyncMode> parse_sync_mode(std::string_view text) {
  if (text == "none") return SyncMode::none;
  if (text == "batch") return SyncMode::batch;
  return std::nullopt;
}

std::string_view to_string(SyncMode mode) {
  switch (mode) {
    case SyncMode::none:
      return "none";
    case SyncMode::batch:
      return "batch";
  }
  return "?";
}

}  // namespace vsr::storage
