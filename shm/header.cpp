#include "shm/header.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "common/checksum.h"
#include "shm/active_slots.h"
#include "shm/doorbell.h"
#include "shm/link_matrix.h"
#include "shm/owner_slot.h"
#include "shm/process.h"
#include "shm/ring.h"
#include "shm/status_board.h"

namespace vsr::shm {
namespace {

constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}
constexpr std::uint64_t kAlign = 64;
constexpr std::uint64_t kPage = 4096;

std::string format(const char* fmt, auto... args) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, fmt, args...);
  return buffer;
}

}  // namespace

Layout Layout::compute(std::uint32_t n, std::uint32_t s) {
  VSR_ASSERT(n >= 1 && n <= kMaxReplicas && s <= kMaxClientSlots);
  Layout l;
  std::uint64_t at = kHeaderRegionBytes;
  auto take = [&at](std::uint64_t bytes) {
    const std::uint64_t offset = at;
    at = align_up(at + bytes, kAlign);
    return offset;
  };
  l.status_offset = take(n * sizeof(StatusBoard));
  l.hints_offset = take(n * sizeof(SupervisorHint));
  l.links_offset = take(sizeof(LinkMatrix));
  l.active_slots_offset = take(sizeof(ActiveSlots));
  l.doorbells_offset = take((n + s) * sizeof(Doorbell));
  l.owners_offset = take((n + s) * sizeof(OwnerSlot));
  // Rings start on pages of their own; each ring's indices begin a cache line.
  at = align_up(at, kPage);
  l.replica_ring_stride = align_up(sizeof(ReplicaRing), kAlign);
  l.client_ring_stride = align_up(sizeof(ClientRing), kAlign);
  l.replica_rings_offset = take(std::uint64_t{n} * (n - 1) * l.replica_ring_stride);
  l.client_rings_offset = take(std::uint64_t{2} * s * n * l.client_ring_stride);
  l.total_bytes = align_up(at, kPage);
  return l;
}

std::uint64_t info_checksum(const HeaderInfo& info) {
  return checksum(&info, sizeof info);
}

std::string object_name(const std::string& cluster) {
  return "/vsr-" + cluster;
}

void check_cluster_name(const std::string& cluster) {
  bool ok = !cluster.empty() && cluster.size() <= kClusterNameBytesMax && cluster[0] != '.' &&
            cluster[0] != '-';
  for (const char c : cluster) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    ok = ok && allowed;
  }
  if (!ok) {
    throw Error(ErrorCode::invalid_argument,
                "invalid cluster name '" + cluster +
                    "': use 1 to 64 of letters, digits, '.', '_', '-', not starting with '.' or "
                    "'-'");
  }
}

std::optional<Error> check_header(const Header& header, std::size_t mapped_bytes,
                                  const std::string& cluster, const AttachOptions& options) {
  const std::string name = object_name(cluster);
  const char* c = cluster.c_str();
  const std::string restart = format("`vsr-supervisor start --cluster %s`", c);
  if (mapped_bytes < kHeaderRegionBytes) {
    return Error(ErrorCode::corrupt,
                 format("segment %s is too small (%zu bytes) to be a vsr segment: %s replaces it",
                        name.c_str(), mapped_bytes, restart.c_str()));
  }
  const std::uint64_t magic = header.magic.load(std::memory_order_acquire);
  const ProcessIdentity creator{static_cast<std::uint32_t>(header.supervisor_pid),
                                header.supervisor_start_time};
  if (magic == 0) {
    if (creator.pid != 0 && process_alive(creator)) {
      return Error(ErrorCode::incomplete,
                   format("segment %s is still being created by supervisor pid %u: retry in a "
                          "moment",
                          name.c_str(), creator.pid));
    }
    return Error(ErrorCode::incomplete,
                 format("segment %s was left half-created by supervisor pid %u, which is no "
                        "longer running: %s cleans it up",
                        name.c_str(), creator.pid, restart.c_str()));
  }
  if (magic != kSegmentMagic) {
    return Error(ErrorCode::corrupt,
                 format("%s is not a vsr segment (magic 0x%016" PRIx64 "): %s replaces it",
                        name.c_str(), magic, restart.c_str()));
  }
  if (!process_alive(creator)) {
    return Error(ErrorCode::stale,
                 format("segment %s was left by supervisor pid %u, which is no longer running: "
                        "%s cleans it up",
                        name.c_str(), creator.pid, restart.c_str()));
  }
  if (header.layout_version != kLayoutVersion || header.header_bytes != sizeof(Header)) {
    return Error(ErrorCode::mismatch,
                 format("segment %s has layout version %u (header %u bytes) but this program "
                        "expects version %u (%zu bytes): run the supervisor, replicas and "
                        "clients of one build",
                        name.c_str(), header.layout_version, header.header_bytes, kLayoutVersion,
                        sizeof(Header)));
  }
  const HeaderInfo& info = header.info;
  if (info_checksum(info) != header.info_checksum) {
    return Error(ErrorCode::corrupt,
                 format("segment %s has a corrupt header (checksum mismatch): stop supervisor "
                        "pid %u and run %s",
                        name.c_str(), creator.pid, restart.c_str()));
  }
  const bool counts_ok = info.replica_count >= 1 && info.replica_count <= kMaxReplicas &&
                         info.client_slots <= kMaxClientSlots;
  if (!counts_ok || info.replica_ring_bytes != kReplicaRingBytes ||
      info.client_ring_bytes != kClientRingBytes || info.max_frame_bytes != kMaxFrameBytes ||
      info.max_message_bytes != kMaxMessageBytes ||
      !(info.layout == Layout::compute(info.replica_count, info.client_slots))) {
    return Error(ErrorCode::mismatch,
                 format("segment %s was laid out by a different build (rings %" PRIu64 "/%" PRIu64
                        " bytes, frames %" PRIu64
                        " bytes): run the supervisor, replicas and clients of one build",
                        name.c_str(), info.replica_ring_bytes, info.client_ring_bytes,
                        info.max_frame_bytes));
  }
  if (info.segment_bytes != info.layout.total_bytes || info.segment_bytes != mapped_bytes) {
    return Error(
        ErrorCode::corrupt,
        format("segment %s is %zu bytes but its header says %" PRIu64 ": stop supervisor "
               "pid %u and run %s",
               name.c_str(), mapped_bytes, info.segment_bytes, creator.pid, restart.c_str()));
  }
  if (std::strncmp(info.cluster, c, sizeof info.cluster) != 0) {
    return Error(ErrorCode::mismatch, format("segment %s belongs to cluster '%.64s', not '%s'",
                                             name.c_str(), info.cluster, c));
  }
  if (options.replica_count && *options.replica_count != info.replica_count) {
    return Error(ErrorCode::mismatch,
                 format("cluster '%s' has %u replicas but this process was started for %u: "
                        "check --replicas",
                        c, info.replica_count, *options.replica_count));
  }
  if (options.cluster_id && *options.cluster_id != info.cluster_id) {
    return Error(ErrorCode::mismatch,
                 format("cluster '%s' has id %016" PRIx64 " but this process expects %016" PRIx64
                        ": the cluster was recreated; restart this process",
                        c, info.cluster_id, *options.cluster_id));
  }
  if (options.generation && *options.generation != info.generation) {
    return Error(ErrorCode::mismatch,
                 format("cluster '%s' is at generation %" PRIu64
                        " but this process expects %" PRIu64 ": restart this process",
                        c, info.generation, *options.generation));
  }
  return std::nullopt;
}

}  // namespace vsr::shm
