// The public API (vsr/client.h): thin forwarding to the engine, which does the work.
#include "client/src/engine.h"
#include "client/src/operation.h"
#include "vsr/client.h"

namespace vsr::client {

const char* to_string(Status status) {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::not_found:
      return "not found";
    case Status::cas_mismatch:
      return "cas mismatch";
    case Status::too_large:
      return "too large";
    case Status::invalid_argument:
      return "invalid argument";
    case Status::timed_out:
      return "timed out";
    case Status::session_evicted:
      return "session evicted";
    case Status::unavailable:
      return "unavailable";
  }
  return "unknown status";
}

const char* to_string(OpKind kind) {
  // The store's names (a view of a string literal, so null-terminated).
  return kv::to_string(detail::to_kv(kind)).data();
}

// ---- Client: one session, one operation at a time ----

Client::Client(Options options)
    : engine_(std::make_unique<detail::Engine>(std::move(options), 1)) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Result Client::connect() {
  return engine_->connect();
}

Result Client::get(std::string_view key, Timeout timeout) {
  return execute(Op::get(std::string(key)), timeout);
}

Result Client::put(std::string_view key, std::string_view value, Timeout timeout) {
  return execute(Op::put(std::string(key), std::string(value)), timeout);
}

Result Client::del(std::string_view key, Timeout timeout) {
  return execute(Op::del(std::string(key)), timeout);
}

Result Client::cas(std::string_view key, std::string_view expected, std::string_view desired,
                   Timeout timeout) {
  return execute(Op::cas(std::string(key), std::string(expected), std::string(desired)), timeout);
}

Result Client::append(std::string_view key, std::string_view value, Timeout timeout) {
  return execute(Op::append(std::string(key), std::string(value)), timeout);
}

Result Client::execute(Op op, Timeout timeout) {
  return engine_->run(std::move(op), timeout);
}

const Options& Client::options() const {
  return engine_->options();
}

// ---- Pipeline: many sessions, many operations in flight ----

Pipeline::Pipeline(Options options, std::size_t sessions)
    : engine_(std::make_unique<detail::Engine>(std::move(options), sessions)) {}
Pipeline::~Pipeline() = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

Result Pipeline::connect() {
  return engine_->connect();
}

std::optional<Ticket> Pipeline::submit(Op op, Timeout timeout) {
  return engine_->submit(std::move(op), timeout);
}

std::size_t Pipeline::poll(std::vector<Completion>& out, std::chrono::microseconds wait) {
  return engine_->poll(out, wait);
}

std::size_t Pipeline::outstanding() const {
  return engine_->outstanding();
}
std::size_t Pipeline::sessions() const {
  return engine_->session_count();
}
const Options& Pipeline::options() const {
  return engine_->options();
}

}  // namespace vsr::client
