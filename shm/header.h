// The segment header and layout: what every attacher checks before touching anything.
//
// The first 4 KiB of the segment. The creator writes its identity first, then the
// immutable description (HeaderInfo, covered by info_checksum), constructs every object
// of the layout, and publishes `magic` last (release): a segment whose magic is 0 was
// never completed. supervisor_pid/start_time sit at the same offsets in every layout
// version, so even a segment from another build can be judged live or stale.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "shm/error.h"
#include "shm/limits.h"

namespace vsr::shm {

inline constexpr std::uint64_t kSegmentMagic = 0x314d48532d525356;  // "VSR-SHM1"
// 2: StatusBoard gained two fields; 3: ActiveSlots
inline constexpr std::uint32_t kLayoutVersion = 3;
inline constexpr std::size_t kHeaderRegionBytes = 4096;

// Byte offsets of every region from the segment start (all 64-byte aligned).
struct Layout {
  std::uint64_t status_offset = 0;         // StatusBoard[N]
  std::uint64_t hints_offset = 0;          // SupervisorHint[N]
  std::uint64_t links_offset = 0;          // LinkMatrix
  std::uint64_t active_slots_offset = 0;   // ActiveSlots
  std::uint64_t doorbells_offset = 0;      // Doorbell[N + S]: replicas, then client slots
  std::uint64_t owners_offset = 0;         // OwnerSlot[N + S]: replica ids, then client slots
  std::uint64_t replica_rings_offset = 0;  // ReplicaRing[N * (N - 1)]
  std::uint64_t client_rings_offset = 0;   // ClientRing[2 * S * N]
  std::uint64_t replica_ring_stride = 0;
  std::uint64_t client_ring_stride = 0;
  std::uint64_t total_bytes = 0;

  static Layout compute(std::uint32_t replica_count, std::uint32_t client_slots);
  bool operator==(const Layout&) const = default;
};

// Immutable after creation; checksummed.
struct HeaderInfo {
  std::uint64_t segment_bytes = 0;
  std::uint64_t cluster_id = 0;
  std::uint64_t generation = 0;
  std::uint32_t replica_count = 0;
  std::uint32_t client_slots = 0;
  std::uint64_t replica_ring_bytes = 0;
  std::uint64_t client_ring_bytes = 0;
  std::uint64_t max_frame_bytes = 0;
  std::uint64_t max_message_bytes = 0;
  std::uint64_t created_unix_ns = 0;
  Layout layout;
  char cluster[kClusterNameBytesMax + 8] = {};  // NUL-terminated
};

struct Header {
  std::atomic<std::uint64_t> magic{0};  // kSegmentMagic once complete
  std::uint32_t layout_version = 0;
  std::uint32_t header_bytes = 0;  // sizeof(Header)
  std::uint64_t supervisor_pid = 0;
  std::uint64_t supervisor_start_time = 0;  // /proc/<pid>/stat field 22
  std::uint64_t info_checksum = 0;          // XXH3 of `info`
  HeaderInfo info;
};
static_assert(sizeof(Header) <= kHeaderRegionBytes);

std::uint64_t info_checksum(const HeaderInfo& info);

// "/vsr-<cluster>"
std::string object_name(const std::string& cluster);
// Throws Error(invalid_argument) unless 1..64 of [A-Za-z0-9._-], not starting with '.' or '-'.
void check_cluster_name(const std::string& cluster);

// What attach() checks beyond the header's own consistency.
struct AttachOptions {
  std::optional<std::uint32_t> replica_count;
  std::optional<std::uint64_t> cluster_id;
  std::optional<std::uint64_t> generation;
};

// Validates a mapped header of a segment of `mapped_bytes` bytes named after `cluster`.
// Returns the error attach() must refuse with, if any (supervisor liveness included).
std::optional<Error> check_header(const Header& header, std::size_t mapped_bytes,
                                  const std::string& cluster, const AttachOptions& options);

}  // namespace vsr::shm
