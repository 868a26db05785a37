// One attachment to a cluster: the mapped segment and the claimed client slot.
//
// Opening never throws: the transport's setup errors (no cluster, stale segment, every
// slot taken, ...) become the reason string, whose text (from shm::Error) says what to do.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shm/shm.h"

namespace vsr::client::detail {

class Connection {
 public:
  // The connection, or nullptr with `error` set.
  static std::unique_ptr<Connection> open(const std::string& cluster, std::string& error);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  shm::ClientPort& port() { return *port_; }
  std::uint32_t replica_count() const { return segment_->replica_count(); }
  // Every replica's board, in replica order.
  std::vector<shm::ReplicaStatus> read_boards() const;

 private:
  Connection(std::unique_ptr<shm::Segment> segment, shm::ClientPort port);

  // Declared first, destroyed last: the port points into the segment's mapping.
  std::unique_ptr<shm::Segment> segment_;
  std::optional<shm::ClientPort> port_;
};

}  // namespace vsr::client::detail
