// The engine behind Client and Pipeline: sessions, the queue of waiting operations, and
// the retry protocol, driven by poll() on one thread.
//
// A session is a protocol session (VRR's client-table entry): it carries at most one
// request at a time, with request numbers 1, 2, 3, ... Its life:
//
//   unregistered --register--> registering --reply ok--> idle --op--> in_flight --+
//        ^                          |                      ^                      |
//        |                          +-- deadline ----------|----------------------+
//        +------------------- session_evicted -------------+---- reply / timeout -+
//
// Every send of a request, first or retry, carries the same (session, request number),
// so the replicas execute it at most once. After a timed-out operation the session goes
// on with the next number: the old request either executes before the new one or never
// (the primary drops a newer request while one is in flight, and an older one once a
// newer one executed), so no operation can take effect after a later one of its session.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/src/connection.h"
#include "common/codec.h"
#include "replica/core/message.h"
#include "vsr/client.h"

namespace vsr::client::detail {

using Clock = std::chrono::steady_clock;

// Process-local and monotonic; for tests and diagnostics.
struct EngineCounters {
  std::uint64_t connects = 0;
  std::uint64_t registrations = 0;     // sessions registered
  std::uint64_t sends = 0;             // requests handed to the transport, retries included
  std::uint64_t send_failures = 0;     // refused by the transport (the attempt timer resends)
  std::uint64_t attempt_timeouts = 0;  // resent to another replica
  std::uint64_t redirects = 0;         // not_primary naming another replica
  std::uint64_t pauses = 0;            // busy, or a redirect back to the same replica
  std::uint64_t undecodable = 0;       // replies that do not decode
  std::uint64_t unmatched = 0;         // replies to nothing outstanding (late, duplicate)
  std::uint64_t primary_changes = 0;   // the boards named a new primary: in flight resent
};

class Engine {
 public:
  // Throws std::invalid_argument for bad options or a session count out of range.
  Engine(Options options, std::size_t sessions);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Attaches and registers every unregistered session within options.timeout.
  Result connect();
  // nullopt if queue_max operations are waiting.
  std::optional<Ticket> submit(Op op, Timeout timeout);
  std::size_t poll(std::vector<Completion>& out, std::chrono::microseconds wait);
  // One operation, start to end (the Client): submit, then poll until it completes.
  Result run(Op op, Timeout timeout);

  std::size_t outstanding() const { return outstanding_; }
  std::size_t session_count() const { return sessions_.size(); }
  const Options& options() const { return options_; }
  const EngineCounters& counters() const { return counters_; }

 private:
  struct Job {
    Ticket ticket;
    OpKind kind = OpKind::get;
    Bytes operation;  // the store's encoding
    std::chrono::milliseconds timeout{0};
    Clock::time_point deadline;
    Clock::time_point first_sent;  // valid when sends > 0
    std::uint32_t sends = 0;
  };

  struct Session {
    enum class Phase : std::uint8_t { unregistered, registering, idle, in_flight };
    Phase phase = Phase::unregistered;
    SessionId id;
    RequestNumber request;        // the latest number used (0: none yet)
    std::uint64_t nonce = 0;      // registering: echoed by the reply
    std::optional<Job> job;       // in flight, or waiting for the registration
    Clock::time_point deadline;   // registering without a job (connect())
    std::uint32_t target = 0;     // the replica the request goes to
    Clock::time_point next_send;  // end of the attempt, or of the pause
    bool pausing = false;
    std::uint32_t pauses = 0;  // consecutive, for the backoff
    Bytes frame;               // the encoded Request, resent as is
  };

  template <typename Done>
  void drive(Done&& done, Clock::time_point end);
  void step(Clock::time_point now);
  bool ensure_connected(std::string& error);
  void receive(Clock::time_point now);
  void on_reply(std::uint32_t from, const Reply& reply, Clock::time_point now);
  void on_operation_reply(std::size_t index, std::uint32_t from, const Reply& reply,
                          Clock::time_point now);
  void on_registration_reply(std::size_t index, std::uint32_t from, const Reply& reply,
                             Clock::time_point now);
  void on_timers(Clock::time_point now);
  void on_attempt_timeout(Session& session);
  void watch_primary(Clock::time_point now);
  void dispatch(Clock::time_point now);
  void expire_queued(Clock::time_point now);
  void start_registration(std::size_t index, Clock::time_point now);
  void start_request(std::size_t index, Clock::time_point now);
  void send(Session& session, Clock::time_point now);
  // not_primary naming another replica: resend there at once (it is the new guess).
  void redirect(Session& session, std::uint32_t target, Clock::time_point now);
  void pause(Session& session, std::uint32_t target, Clock::time_point now);
  void finish(std::size_t index, Result result);
  void complete(Job job, Result result);
  void release(std::size_t index);
  std::optional<Clock::time_point> next_timer() const;
  void wait(Clock::time_point until, Clock::time_point now);
  std::optional<std::uint32_t> board_primary() const;
  bool cluster_seems_gone() const;

  Options options_;
  std::vector<Session> sessions_;
  std::vector<std::size_t> free_;  // sessions without a job (idle or unregistered)
  std::size_t busy_ = 0;           // sessions registering or in flight
  std::deque<Job> queue_;
  Clock::time_point queue_expiry_ = Clock::time_point::max();  // earliest queued deadline
  std::vector<Completion> done_;
  std::size_t outstanding_ = 0;
  std::unique_ptr<Connection> connection_;
  // After a timeout with every status board stale (e.g. the cluster was restarted under
  // a new segment): send nothing new, drop the connection once nothing is in flight, and
  // attach afresh for what waits.
  bool disconnect_wanted_ = false;
  std::uint32_t guess_ = 0;  // the replica believed to be the primary
  // The boards' primary at the last watch: only a change of it moves what is in flight
  // (a stale board must not pull requests back and forth against redirects).
  std::optional<std::uint32_t> watched_primary_;
  Clock::time_point next_watch_{};
  std::unordered_map<std::uint64_t, std::size_t> by_session_;  // session id -> index
  std::unordered_map<std::uint64_t, std::size_t> by_nonce_;    // registering -> index
  std::mt19937_64 random_;
  std::uint64_t next_ticket_ = 1;
  EngineCounters counters_;
};

}  // namespace vsr::client::detail
