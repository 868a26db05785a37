#include "client/src/connection.h"

namespace vsr::client::detail {

Connection::Connection(std::unique_ptr<shm::Segment> segment, shm::ClientPort port)
    : segment_(std::move(segment)), port_(std::move(port)) {}

std::unique_ptr<Connection> Connection::open(const std::string& cluster, std::string& error) {
  try {
    auto segment = std::make_unique<shm::Segment>(shm::Segment::attach(cluster));
    shm::ClientPort port = shm::ClientPort::claim(*segment);
    return std::unique_ptr<Connection>(new Connection(std::move(segment), std::move(port)));
  } catch (const shm::Error& e) {
    error = e.what();
  } catch (const std::exception& e) {
    // Anything else from setup (e.g. out of memory) is just as fatal to this attempt.
    error = std::string("cannot attach to cluster '") + cluster + "': " + e.what();
  }
  return nullptr;
}

std::vector<shm::ReplicaStatus> Connection::read_boards() const {
  std::vector<shm::ReplicaStatus> boards;
  boards.reserve(segment_->replica_count());
  for (std::uint32_t r = 0; r < segment_->replica_count(); ++r) {
    boards.push_back(segment_->status(r).read());
  }
  return boards;
}

}  // namespace vsr::client::detail
