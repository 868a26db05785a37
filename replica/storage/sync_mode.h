// When journal writes are made durable against losing the host.
//
//   none   every write lands in the page cache before any message depends on it (the
//          journal writes during the step), which survives the death of any process
//          at any instruction; nothing is ever flushed to the disk by us.
//   batch  additionally, the driver calls ReplicaStorage::sync() once per batch,
//          before it sends anything the batch produced: the log and superblock are
//          then on the disk, which survives losing the whole host.
#pragma once

#include <optional>
#include <string_view>

namespace vsr::storage {

enum class SyncMode { none, batch };

// "none" or "batch"; nullopt for anything else.
std::optional<SyncMode> parse_sync_mode(std::string_view text);
std::string_view to_string(SyncMode mode);

}  // namespace vsr::storage
