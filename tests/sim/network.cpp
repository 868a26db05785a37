#include "tests/sim/network.h"

#include "common/assert.h"

namespace vsr::sim {

Network::Network(std::uint32_t replicas, std::uint32_t nodes, Rng rng)
    : replicas_(replicas), nodes_(nodes), rng_(rng), links_(replicas * replicas, true) {}

bool Network::link(NodeId from, NodeId to) const {
  if (from >= replicas_ || to >= replicas_) return true;
  return links_[from * replicas_ + to];
}

void Network::heal() { std::fill(links_.begin(), links_.end(), true); }

void Network::send(std::uint64_t now, NodeId from, NodeId to, MessageKind kind, Bytes bytes) {
  VSR_ASSERT(from < nodes_ && to < nodes_);
  ++sent_;
  if (!link(from, to) || rng_.chance(faults_.loss)) {
    ++dropped_;
    return;
  }
  const int copies = rng_.chance(faults_.duplicate) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    const std::uint64_t delay = rng_.between(1, std::max<std::uint32_t>(1, faults_.delay_max));
    queue_.push(Packet{now + delay, sequence_++, from, to, kind, bytes});
  }
}

std::optional<Packet> Network::pop_due(std::uint64_t now) {
  if (queue_.empty() || queue_.top().deliver_at > now) return std::nullopt;
  Packet p = queue_.top();
  queue_.pop();
  return p;
}

}  // namespace vsr::sim
