// vsr-shm client library: the key-value service of a vsr-shm cluster running on this host.
//
//   vsr::client::Client kv({.cluster = "default"});
//   vsr::client::Result r = kv.put("greeting", "hello");
//   if (r.ok()) r = kv.get("greeting");          // r.value == "hello"
//
// Two interfaces over the same engine:
//   Client    one operation at a time, blocking until its result or its timeout;
//   Pipeline  many operations in flight from one thread, over several sessions
//             (one request per session at a time); submit() and poll().
// Each Client or Pipeline claims one client slot of the cluster's shared-memory segment
// and registers its own protocol sessions; neither is thread-safe (use one per thread).
//
// Every operation ends in a Result. Errors are values, never exceptions: only
// constructing a Client or Pipeline with nonsensical Options throws std::invalid_argument.
// What each Status means for the operation (did it happen?):
//
//   ok, not_found, cas_mismatch, too_large   definite: the cluster executed it (exactly once)
//   invalid_argument, unavailable            definite: it was not executed
//   timed_out, session_evicted               indeterminate: it may or may not have happened
//
// Retries never execute an operation twice: a retry resends the same request (same
// session, same request number) and the replicas deduplicate it. See client/README.md.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#define VSR_CLIENT_API __attribute__((visibility("default")))

namespace vsr::client {

// Keys are 1..kMaxKeyBytes bytes, values (and cas expected values) 0..kMaxValueBytes;
// any bytes. Anything else is refused with invalid_argument before it is sent.
inline constexpr std::size_t kMaxKeyBytes = 256;
inline constexpr std::size_t kMaxValueBytes = 16 * 1024;
// Sessions of one Pipeline (each is one request in flight).
inline constexpr std::size_t kMaxSessions = 256;

enum class Status : std::uint8_t {
  ok,                // done; get: `value` holds the value
  not_found,         // get, del: the key is absent
  cas_mismatch,      // cas: the current value differs; `value` holds it (nullopt: absent)
  too_large,         // the store refused it: the value would exceed the limit, or it is full
  invalid_argument,  // refused before sending (key or value size), or by the replica
  timed_out,         // no answer within the timeout: it may or may not have happened
  session_evicted,   // the cluster forgot the session: it may or may not have happened
  unavailable,       // not sent: no cluster, no free client slot, no session could be
                     // registered, or (Pipeline) no session came free before the timeout
};

VSR_CLIENT_API const char* to_string(Status status);

// What became of one operation.
struct Result {
  Status status = Status::unavailable;
  // get (ok): the value. cas_mismatch: the current value, or nullopt if the key is absent.
  std::optional<std::string> value;
  // Empty when ok; otherwise one sentence on what happened and, where it helps, what to do.
  std::string message;

  bool ok() const { return status == Status::ok; }
  // The operation may or may not have taken effect; only reading it back can tell.
  bool indeterminate() const {
    return status == Status::timed_out || status == Status::session_evicted;
  }
};

enum class OpKind : std::uint8_t { get, put, del, cas, append };

// "get", "put", "del", "cas", "append".
VSR_CLIENT_API const char* to_string(OpKind kind);

// Replaces Options::timeout for one operation when given.
using Timeout = std::optional<std::chrono::milliseconds>;

// One key-value operation. Build it with the factories.
struct Op {
  OpKind kind = OpKind::get;
  std::string key;
  std::string value;     // put, append: the value; cas: the new value
  std::string expected;  // cas: the value the key must hold

  static Op get(std::string key) { return {OpKind::get, std::move(key), {}, {}}; }
  static Op put(std::string key, std::string value) {
    return {OpKind::put, std::move(key), std::move(value), {}};
  }
  static Op del(std::string key) { return {OpKind::del, std::move(key), {}, {}}; }
  static Op cas(std::string key, std::string expected, std::string desired) {
    return {OpKind::cas, std::move(key), std::move(desired), std::move(expected)};
  }
  static Op append(std::string key, std::string value) {
    return {OpKind::append, std::move(key), std::move(value), {}};
  }
};

struct Options {
  // The cluster's name (its segment is /dev/shm/vsr-<cluster>).
  std::string cluster = "default";
  // Whole operation, registering a session included. 1 ms .. 1 hour.
  std::chrono::milliseconds timeout{5000};
  // An attempt unanswered for this long is resent (same request) to the next replica.
  // 1 ms .. timeout.
  std::chrono::milliseconds attempt_timeout{200};
  // After a busy reply (or a redirect back to the replica that refused), wait this long
  // before resending, doubling on each further one up to busy_pause_max.
  std::chrono::milliseconds busy_pause{1};
  std::chrono::milliseconds busy_pause_max{50};
  // A status board whose heartbeat is older than this is not used to find the primary.
  std::chrono::milliseconds heartbeat_fresh{1000};
  // While operations are in flight, the status boards are read this often; when they
  // name a new primary (after a view change), what is in flight is resent to it at once
  // rather than after attempt_timeout. 0 turns this off; otherwise 1 ms .. attempt_timeout.
  std::chrono::milliseconds primary_watch{1};
  // Pipeline: operations submitted and not yet sent (waiting for a free session).
  std::size_t queue_max = 65536;
};

namespace detail {
class Engine;
}

// One operation at a time. Connects on first use (or with connect()).
class VSR_CLIENT_API Client {
 public:
  // Throws std::invalid_argument if an option is out of range. Does not connect.
  explicit Client(Options options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  // Attaches to the cluster, claims a client slot and registers a session, within
  // options.timeout. ok, or unavailable with the reason. Optional: operations connect.
  Result connect();

  Result get(std::string_view key, Timeout timeout = std::nullopt);
  Result put(std::string_view key, std::string_view value, Timeout timeout = std::nullopt);
  Result del(std::string_view key, Timeout timeout = std::nullopt);
  Result cas(std::string_view key, std::string_view expected, std::string_view desired,
             Timeout timeout = std::nullopt);
  Result append(std::string_view key, std::string_view value, Timeout timeout = std::nullopt);
  Result execute(Op op, Timeout timeout = std::nullopt);

  const Options& options() const;

 private:
  std::unique_ptr<detail::Engine> engine_;
};

// Names one submitted operation of a Pipeline; increasing from 1 in submission order.
struct Ticket {
  std::uint64_t value = 0;
  auto operator<=>(const Ticket&) const = default;
};

struct Completion {
  Ticket ticket;
  Result result;
  // From the first send of the request to the reply (0 if it was never sent).
  std::chrono::nanoseconds latency{0};
  // How many times the request was sent (1 unless retried; 0 if never sent).
  std::uint32_t sends = 0;
};

// Many operations in flight from one thread. `sessions` protocol sessions share one
// client slot; each carries one request at a time, so at most `sessions` operations are
// in flight and the rest wait in a FIFO queue (at most options.queue_max).
//
//   Pipeline p(options, 16);
//   if (!p.connect().ok()) ...;                    // optional: registers the 16 sessions
//   std::optional<Ticket> t = p.submit(Op::put("k", "v"));
//   std::vector<Completion> done;
//   p.poll(done, std::chrono::milliseconds(10));   // sends, receives, retries, times out
//
// Nothing happens between calls: poll() does all the sending, receiving, retrying and
// timing out, so call it whenever there is something outstanding. Operations submitted
// before another's completion was seen are concurrent: the cluster may execute them in
// either order. To order two operations, submit the second after the first completes.
class VSR_CLIENT_API Pipeline {
 public:
  // Throws std::invalid_argument if an option is out of range or sessions is not in
  // 1..kMaxSessions. Does not connect.
  Pipeline(Options options, std::size_t sessions);
  ~Pipeline();
  Pipeline(Pipeline&&) noexcept;
  Pipeline& operator=(Pipeline&&) noexcept;

  // Attaches, claims a client slot and registers every session, within options.timeout.
  // ok, or unavailable with the reason. Optional: submit() connects when needed.
  Result connect();

  // Queues an operation; its timeout (options.timeout unless given) runs from now. An
  // operation with a bad key or value size completes at once with invalid_argument (it
  // is reported by the next poll). nullopt: queue_max operations already wait; poll first.
  [[nodiscard]] std::optional<Ticket> submit(Op op, Timeout timeout = std::nullopt);

  // Sends what it can, handles replies, retries and timeouts, and appends the operations
  // that completed to `out` (in the order they completed). Waits up to `wait` for at
  // least one completion, sleeping on the slot's doorbell (never a busy loop). Returns the
  // number appended.
  std::size_t poll(std::vector<Completion>& out, std::chrono::microseconds wait);

  // Submitted and not yet returned by poll().
  std::size_t outstanding() const;
  std::size_t sessions() const;
  const Options& options() const;

 private:
  std::unique_ptr<detail::Engine> engine_;
};

// The status boards of a cluster's replicas, read straight from its segment (no replica
// or supervisor is asked). Advisory: a snapshot of what each replica last published.
struct ReplicaInfo {
  std::uint32_t id = 0;
  std::uint64_t pid = 0;       // 0: no replica has published on this board yet
  bool process_alive = false;  // the process holding this replica id runs
  std::string role;            // "primary", "backup"
  std::string status;          // "normal", "view-change", "recovering", "state-transfer"
  std::uint64_t view = 0;
  std::uint64_t op = 0;
  std::uint64_t commit = 0;
  // Fingerprints of what the replica committed: the checksum of the entry at `commit`
  // (equal on two replicas at the same commit iff they committed the same history)
  // and a digest of the key-value state. 0 until published.
  std::uint64_t commit_checksum = 0;
  std::uint64_t state_digest = 0;
  std::uint64_t heartbeat = 0;  // number of publications
  // Since the last publication (the replica beats at least every 100 ms while it runs).
  std::optional<std::chrono::nanoseconds> heartbeat_age;
  bool consistent = true;  // false: the board was mid-update on every read attempt
};

struct ClusterStatus {
  bool available = false;  // false: `message` says why (no cluster, stale segment, ...)
  std::string message;
  std::string cluster;
  std::uint32_t client_slots = 0;
  std::uint32_t client_slots_in_use = 0;
  std::vector<ReplicaInfo> replicas;
};

VSR_CLIENT_API ClusterStatus read_cluster_status(const std::string& cluster);

}  // namespace vsr::client
