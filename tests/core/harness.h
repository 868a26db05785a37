// A hand-driven cluster for scripted protocol tests: replicas over memory storage,
// messages delivered only when a test says so, so each test reads like a scenario
// from the paper.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replica/core/batch.h"
#include "replica/core/kv_operation.h"
#include "replica/core/kv_store.h"
#include "replica/core/replica.h"
#include "replica/journal/journal.h"

namespace vsr::test {

inline constexpr std::uint64_t kCluster = 77;

ReplicaConfig test_config(std::uint32_t replicas, ReplicaId self);
journal::Geometry test_geometry();

// An operation's bytes: put key=value.
Bytes put_operation(const std::string& key, const std::string& value);
// A batch body with one request.
Bytes batch_of(SessionId session, RequestNumber request, const Bytes& operation);

struct Node {
  Node(const ReplicaConfig& config, const journal::Geometry& geometry);

  // Writes an entry straight into the journal (before boot), chained on the head.
  Entry seed(ViewNumber view, const Bytes& body);
  // An entry that registers one session (it executes on any state); entries with
  // different salts at one op differ.
  Entry seed_entry(ViewNumber view, std::uint64_t salt = 0);
  // Persists view and last_normal_view straight into the journal (before boot).
  void seed_view(ViewNumber view, ViewNumber last_normal_view);
  void boot(std::uint64_t nonce = 1);
  void wipe_and_boot(std::uint64_t nonce);
  void crash() { replica.reset(); }
  // Crashes, flips a bit in the body of the held entry at `op`, and boots: the entry
  // is faulty (its slot is sound), as after a flipped bit or a power cut that took
  // the body's page and not the slot's.
  void restart_with_faulty_entry(OpNumber op);

  Replica& r() { return *replica; }
  Output take();

  ReplicaConfig config;
  journal::Geometry geometry;
  journal::MemoryRegion superblock;
  journal::MemoryRegion log;
  journal::MemorySnapshotStore snapshots;
  journal::Journal journal;
  kv::Store store;
  std::unique_ptr<Replica> replica;
};

struct Sent {
  ReplicaId from = 0;
  ReplicaId to = 0;
  Message message;
};

class Harness {
 public:
  explicit Harness(std::uint32_t replicas,
                   const std::function<void(ReplicaConfig&)>& tweak = {});

  Node& node(ReplicaId id) { return *nodes_[id]; }
  Replica& r(ReplicaId id) { return nodes_[id]->r(); }
  std::uint32_t size() const { return static_cast<std::uint32_t>(nodes_.size()); }
  void boot_all();

  // Moves every replica's output into the in-flight list (broadcasts expanded) and
  // collects client replies.
  void collect();
  std::vector<Sent>& in_flight() { return in_flight_; }
  std::vector<ClientReply>& replies() { return replies_; }
  // Delivers the in-flight messages that `keep` accepts (the rest are dropped),
  // repeatedly, until nothing is in flight. Returns how many were delivered.
  std::size_t run(const std::function<bool(const Sent&)>& keep = {});
  void deliver(const Sent& sent);
  void tick(ReplicaId id, std::uint32_t ticks = 1);
  void tick_all(std::uint32_t ticks = 1);
  // Messages of type T in flight (optionally to one replica).
  template <typename T>
  std::vector<std::pair<Sent, T>> sent(std::optional<ReplicaId> to = std::nullopt) {
    std::vector<std::pair<Sent, T>> out;
    for (const Sent& s : in_flight_) {
      if (const T* m = std::get_if<T>(&s.message); m && (!to || s.to == *to)) out.push_back({s, *m});
    }
    return out;
  }
  // A client request to `to`, then flush; its effects land in in_flight/replies.
  void request(ReplicaId to, ClientId client, const Request& request);
  // Registers a session through the primary and returns its id.
  SessionId register_session(ReplicaId primary, ClientId client, std::uint64_t nonce);

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<Sent> in_flight_;
  std::vector<ClientReply> replies_;
};

// Registers `count` sessions through `primary` (nonces first, first + 1, ...),
// delivering everything after each request.
void register_some(Harness& h, ReplicaId primary, std::uint64_t count, std::uint64_t first = 1);
// Ticks `primary` through a heartbeat interval and delivers everything: every backup
// hears the commit number.
void heartbeat(Harness& h, ReplicaId primary);
// Runs replica `id` until its (jittered) view change timeout fires.
void tick_until_view_change(Harness& h, ReplicaId id);

}  // namespace vsr::test
