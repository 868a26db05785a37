// read_cluster_status (vsr/client.h): the replicas' status boards, straight from the
// segment, for `vsr-client status` and anyone else who wants to look.
#include <string>

#include "client/src/primary_hint.h"
#include "replica/core/types.h"
#include "replica/process/event_loop.h"
#include "shm/owner_slot.h"
#include "shm/shm.h"
#include "vsr/client.h"

namespace vsr::client {

namespace {

std::string role_name(std::uint32_t role) {
  switch (static_cast<process::Role>(role)) {
    case process::Role::backup:
      return "backup";
    case process::Role::primary:
      return "primary";
  }
  return "role " + std::to_string(role);
}

std::string status_name(std::uint32_t status) {
  switch (static_cast<vsr::Status>(status)) {
    case vsr::Status::normal:
      return "normal";
    case vsr::Status::view_change:
      return "view-change";
    case vsr::Status::recovering:
      return "recovering";
    case vsr::Status::state_transfer:
      return "state-transfer";
  }
  return "status " + std::to_string(status);
}

}  // namespace

ClusterStatus read_cluster_status(const std::string& cluster) {
  ClusterStatus out;
  out.cluster = cluster;
  try {
    // Attaching only maps and reads: no slot is claimed, nothing is sent.
    shm::Segment segment = shm::Segment::attach(cluster);
    out.available = true;
    out.client_slots = segment.client_slots();
    for (const shm::ClientSlotInfo& slot : segment.list_client_slots()) {
      if (slot.pid != 0 && slot.owner_alive) ++out.client_slots_in_use;
    }
    const std::uint64_t now_ns = detail::monotonic_now_ns();
    for (std::uint32_t r = 0; r < segment.replica_count(); ++r) {
      const shm::ReplicaStatus board = segment.status(r).read();
      ReplicaInfo info;
      info.id = r;
      info.pid = board.pid;
      const shm::OwnerInfo owner = shm::read_owner(segment.replica_owner(r));
      info.process_alive = owner.claimed() && shm::owner_alive(segment.replica_owner(r), owner);
      info.role = role_name(board.role);
      info.status = status_name(board.status);
      info.view = board.view;
      info.op = board.op;
      info.commit = board.commit;
      info.commit_checksum = board.commit_checksum;
      info.state_digest = board.state_digest;
      info.heartbeat = board.heartbeat;
      info.consistent = board.consistent;
      if (board.updated_ns != 0) {
        info.heartbeat_age =
            std::chrono::nanoseconds(now_ns > board.updated_ns ? now_ns - board.updated_ns : 0);
      }
      out.replicas.push_back(std::move(info));
    }
  } catch (const shm::Error& e) {
    out.available = false;
    out.message = e.what();
  }
  return out;
}

}  // namespace vsr::client
