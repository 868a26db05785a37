#include "client/src/options_check.h"

#include <stdexcept>

#include "shm/header.h"

namespace vsr::client::detail {

namespace {

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

std::string check_timeout(std::chrono::milliseconds timeout) {
  if (timeout < std::chrono::milliseconds(1) || timeout > kMaxTimeout) {
    return "the timeout is " + ms(timeout) + "; it must be 1 ms to 1 hour";
  }
  return {};
}

std::string check_options(const Options& o) {
  try {
    shm::check_cluster_name(o.cluster);
  } catch (const shm::Error& e) {
    return e.what();
  }
  if (std::string why = check_timeout(o.timeout); !why.empty()) return why;
  if (o.attempt_timeout < std::chrono::milliseconds(1) || o.attempt_timeout > o.timeout) {
    return "attempt_timeout is " + ms(o.attempt_timeout) + "; it must be 1 ms to the timeout (" +
           ms(o.timeout) + ")";
  }
  if (o.busy_pause < std::chrono::milliseconds(1) || o.busy_pause > o.busy_pause_max ||
      o.busy_pause_max > kMaxPause) {
    return "busy_pause and busy_pause_max must satisfy 1 ms <= busy_pause <= busy_pause_max <= "
           "10 s";
  }
  if (o.heartbeat_fresh < std::chrono::milliseconds(1) || o.heartbeat_fresh > kMaxTimeout) {
    return "heartbeat_fresh is " + ms(o.heartbeat_fresh) + "; it must be 1 ms to 1 hour";
  }
  if (o.primary_watch.count() != 0 &&
      (o.primary_watch < std::chrono::milliseconds(1) || o.primary_watch > o.attempt_timeout)) {
    return "primary_watch is " + ms(o.primary_watch) + "; it must be 0 (off) or 1 ms to " +
           "attempt_timeout (" + ms(o.attempt_timeout) + ")";
  }
  if (o.queue_max < 1 || o.queue_max > kMaxQueue) {
    return "queue_max is " + std::to_string(o.queue_max) + "; it must be 1 to " +
           std::to_string(kMaxQueue);
  }
  return {};
}

void require_valid(const Options& options) {
  if (std::string why = check_options(options); !why.empty()) {
    throw std::invalid_argument("vsr::client::Options: " + why);
  }
}

}  // namespace vsr::client::detail
