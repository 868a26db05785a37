// The simulated network: every message between replicas and clients passes here,
// encoded to bytes and decoded again (so the codec runs on every message), and
// suffers the seed's faults: loss, duplication, delay and reordering, and
// partitions that may be asymmetric.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "common/codec.h"
#include "replica/core/codec.h"
#include "tests/sim/rng.h"

namespace vsr::sim {

// Replicas are 0..N-1; clients are N and up.
using NodeId = std::uint32_t;

struct NetworkFaults {
  double loss = 0;         // probability a message is dropped
  double duplicate = 0;    // probability a message is delivered twice
  std::uint32_t delay_max = 1;  // ticks; each message takes 1..delay_max
};

struct Packet {
  std::uint64_t deliver_at = 0;
  std::uint64_t sequence = 0;  // ties broken by send order: deterministic
  NodeId from = 0;
  NodeId to = 0;
  MessageKind kind = MessageKind::prepare;
  Bytes bytes;
  bool operator>(const Packet& o) const {
    return deliver_at != o.deliver_at ? deliver_at > o.deliver_at : sequence > o.sequence;
  }
};

class Network {
 public:
  Network(std::uint32_t replicas, std::uint32_t nodes, Rng rng);

  void set_faults(const NetworkFaults& faults) { faults_ = faults; }
  const NetworkFaults& faults() const { return faults_; }
  // Replica-to-replica links; clients always reach every replica.
  void set_link(NodeId from, NodeId to, bool up) { links_[from * replicas_ + to] = up; }
  bool link(NodeId from, NodeId to) const;
  void heal();

  void send(std::uint64_t now, NodeId from, NodeId to, MessageKind kind, Bytes bytes);
  // The next packet due at or before `now`, if any.
  std::optional<Packet> pop_due(std::uint64_t now);
  std::size_t in_flight() const { return queue_.size(); }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  std::uint32_t replicas_;
  std::uint32_t nodes_;
  Rng rng_;
  NetworkFaults faults_;
  std::vector<bool> links_;
  std::priority_queue<Packet, std::vector<Packet>, std::greater<>> queue_;
  std::uint64_t sequence_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace vsr::sim
