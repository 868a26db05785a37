// A simulated client process: registers a session, then runs one key-value
// operation at a time, retrying a request with the same request number (so it is
// never executed twice) until it gets an answer or gives up. Every operation's
// invocation and completion goes into the shared history for the checker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check/history.h"
#include "replica/core/kv_operation.h"
#include "replica/core/message.h"
#include "tests/sim/network.h"
#include "tests/sim/rng.h"

namespace vsr::sim {

struct ClientOptions {
  std::uint32_t keys = 3;
  std::uint32_t attempt_ticks = 20;   // resend to the next replica after this long
  std::uint32_t give_up_ticks = 400;  // then the operation is indeterminate
  std::uint32_t think_ticks_max = 10;
};

class SimClient {
 public:
  SimClient(NodeId node, std::uint32_t replica_count, ClientOptions options, Rng rng,
            check::History& history, std::uint64_t& next_process);

  // Called every tick; sends through `send(to, request)`.
  template <typename Send>
  void tick(std::uint64_t now, bool issue_new, Send&& send);
  void on_reply(std::uint64_t now, const Reply& reply);

  bool busy() const { return phase_ != Phase::idle; }
  bool operation_outstanding() const { return phase_ == Phase::operation; }
  void set_patient(bool patient) { patient_ = patient; }
  std::uint64_t ok() const { return ok_; }
  std::uint64_t indeterminate() const { return indeterminate_; }
  std::uint64_t outstanding_since() const { return started_; }

 private:
  enum class Phase { idle, registering, operation };
  Request current_request() const;
  void begin_operation(std::uint64_t now);
  void give_up(std::uint64_t now);
  void redirect(ViewNumber view);
  void new_identity();
  check::Stamp stamp(std::uint64_t now) const;

  NodeId node_;
  std::uint32_t replica_count_;
  ClientOptions options_;
  Rng rng_;
  check::History& history_;
  std::uint64_t& next_process_;

  check::ProcessId process_;
  SessionId session_;
  std::uint64_t nonce_ = 0;
  RequestNumber request_;
  Phase phase_ = Phase::idle;
  kv::Operation operation_;
  check::OpId op_id_;
  std::uint64_t started_ = 0;
  std::uint64_t last_sent_ = 0;
  std::uint64_t next_start_ = 0;
  std::uint32_t target_ = 0;
  bool resend_now_ = false;
  bool patient_ = false;
  std::uint64_t values_ = 0;
  std::uint64_t ok_ = 0;
  std::uint64_t indeterminate_ = 0;
};

template <typename Send>
void SimClient::tick(std::uint64_t now, bool issue_new, Send&& send) {
  if (phase_ == Phase::idle) {
    if (!issue_new || now < next_start_) return;
    if (session_.value() == 0) {
      phase_ = Phase::registering;
      nonce_ = rng_.next() | 1;
    } else {
      begin_operation(now);
    }
    started_ = now;
    resend_now_ = true;
  }
  if (phase_ == Phase::operation && !patient_ && now - started_ >= options_.give_up_ticks) {
    return give_up(now);
  }
  if (!resend_now_ && now - last_sent_ < options_.attempt_ticks) return;
  if (!resend_now_) target_ = (target_ + 1) % replica_count_;  // timed out: try the next replica
  resend_now_ = false;
  last_sent_ = now;
  send(target_, current_request());
}

}  // namespace vsr::sim
