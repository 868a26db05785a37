// A stand-in for a running cluster, inside the test process: a real segment (unique
// name, removed at the end) and one thread per replica, each driving a real
// shm::ReplicaPort. The replicas share one client table and one key-value store and
// answer requests as the replica core does (registration, deduplication by session and
// request number, cached replies, eviction) unless the test's policy says otherwise:
// drop a request, execute it and lose the reply, redirect, refuse as busy, evict.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "replica/core/client_table.h"
#include "replica/core/kv_store.h"
#include "replica/core/message.h"
#include "replica/process/event_loop.h"
#include "shm/shm.h"
#include "vsr/client.h"

namespace vsr::client::test {

enum class Verdict : std::uint8_t {
  answer,       // execute (deduplicated) and reply, as the primary does
  drop,         // lost on the way in: nothing happens
  drop_reply,   // execute, then lose the reply: a retry must not execute it again
  not_primary,  // refuse, naming `view`
  busy,         // refuse: queue full
  evict,        // refuse: session evicted
  invalid,      // refuse: malformed
};

struct Decision {
  Verdict verdict = Verdict::answer;
  std::uint64_t view = 0;  // not_primary: the view the refusing replica is in
};

// One request as a replica received it.
struct Received {
  std::uint32_t replica = 0;
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;  // of the slot: a new claim of the slot has a new one
  SessionId session;
  RequestNumber request;
  Bytes operation;
  Verdict verdict = Verdict::answer;
  bool registration() const { return session.value() == 0; }
};

// Decides what replica `replica` does with `request`; `earlier` holds every request
// received before it (oldest first). Runs under the cluster's lock.
using Policy = std::function<Decision(std::uint32_t replica, const Request& request,
                                      const std::vector<Received>& earlier)>;

// A cluster name used as given (to start a cluster again under the same name).
struct ExactName {
  std::string name;
};

class FakeCluster {
 public:
  // Named after `tag`, the pid and a counter.
  explicit FakeCluster(const char* tag, std::uint32_t replicas = 3, std::uint32_t slots = 4,
                       std::size_t table_capacity = 64);
  explicit FakeCluster(ExactName name, std::uint32_t replicas = 3, std::uint32_t slots = 4,
                       std::size_t table_capacity = 64);
  ~FakeCluster();
  FakeCluster(const FakeCluster&) = delete;
  FakeCluster& operator=(const FakeCluster&) = delete;

  const std::string& name() const { return name_; }
  std::uint32_t replica_count() const { return replica_count_; }

  // Replica `primary` answers; the others refuse with not_primary naming view `primary`.
  static Policy primary_is(std::uint32_t primary);
  void set_policy(Policy policy);

  std::vector<Received> received() const;
  std::vector<Received> operations() const;  // received(), registrations left out
  std::size_t registrations() const;
  std::optional<std::string> value(const std::string& key) const;
  std::uint64_t executions() const;  // operations applied to the store
  // Requests that arrived while an earlier request of their session was unanswered
  // (the client must keep one request per session in flight).
  std::uint64_t overlapping() const;

  // Writes replica r's status board, from the calling thread (the fake replicas never
  // write boards, so the board keeps a single writer).
  void publish_board(std::uint32_t replica, process::Role role, vsr::Status status,
                     std::uint64_t view);

 private:
  void run(std::uint32_t replica);
  std::optional<Reply> handle(std::uint32_t replica, shm::Endpoint from, const Request& request);
  std::optional<Reply> execute(const Request& request);

  std::string name_;
  std::uint32_t replica_count_;
  shm::Segment segment_;
  std::vector<shm::ReplicaPort> ports_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mutex_;
  Policy policy_;
  std::vector<Received> received_;
  ClientTable table_;
  kv::Store store_;
  std::uint64_t executions_ = 0;
  std::uint64_t overlapping_ = 0;
  std::map<std::uint64_t, std::uint64_t> answered_;  // session -> highest request answered
};

// Options for tests against `cluster`: short attempts (30 ms), so retries happen fast.
Options fast_options(const FakeCluster& cluster, std::chrono::milliseconds timeout);

}  // namespace vsr::client::test
