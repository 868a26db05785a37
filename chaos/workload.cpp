#include "chaos/workload.h"

#include <memory>
#include <random>
#include <thread>

#include "chaos/history_file.h"
#include "vsr/client.h"

namespace vsr::chaos {

std::string general_key(std::uint32_t n) { return "k" + std::to_string(n); }
std::string append_key(std::uint32_t n, std::uint64_t generation) {
  return "a" + std::to_string(n) + "." + std::to_string(generation);
}
std::uint32_t general_keys(std::uint32_t keys) { return std::max<std::uint32_t>(1, keys / 2); }
std::uint32_t append_keys(std::uint32_t keys) {
  return std::max<std::uint32_t>(1, keys - general_keys(keys));
}

namespace {

using client::Op;
using client::OpKind;
using client::Status;

std::string invoke_line(const Op& op) {
  std::string line = std::string("invoke ") + to_string(op.kind) + " " + quote(op.key);
  switch (op.kind) {
    case OpKind::put:
    case OpKind::append:
      line += " " + quote(op.value);
      break;
    case OpKind::cas:
      line += " " + quote(op.expected) + " " + quote(op.value);
      break;
    default:
      break;
  }
  return line;
}

}  // namespace

WorkloadCounts run_workload(const WorkloadOptions& o) {
  HistoryWriter history(o.history);
  std::mt19937_64 random(o.seed);
  WorkloadCounts counts;
  client::Options options;
  options.cluster = o.cluster;
  options.timeout = o.op_timeout;
  options.attempt_timeout = std::min(o.op_timeout, std::chrono::milliseconds(100));
  std::uint64_t process = o.client;
  auto connection = std::make_unique<client::Client>(options);
  std::uint64_t sequence = 0;
  const std::uint32_t general = general_keys(o.keys);
  const std::uint32_t appends = append_keys(o.keys);
  std::vector<std::string> last_written(general);
  const auto period = std::chrono::nanoseconds(1'000'000'000 / std::max<std::uint32_t>(1, o.rate));
  auto next = std::chrono::steady_clock::now();

  while (std::chrono::steady_clock::now() < o.deadline) {
    // An open-loop rate: the history stays within what the checker can search.
    next += period;
    std::this_thread::sleep_until(next);
    const auto generation = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - o.start)
            .count() / kAppendKeySeconds);
    const std::string value = "c" + std::to_string(o.client) + "." + std::to_string(++sequence);
    Op op;
    const std::uint64_t dice = random() % 100;
    if (dice < 45) {
      // Appends, and reads of the same keys: a read fixes the order of the appends
      // before it, which keeps the checker's search narrow.
      const std::string key = append_key(random() % appends, generation);
      op = dice < 27 ? Op::append(key, value + ",") : Op::get(key);
    } else {
      const std::uint32_t k = random() % general;
      if (dice < 60) {
        op = Op::get(general_key(k));
      } else if (dice < 78) {
        op = Op::put(general_key(k), value);
      } else if (dice < 95) {
        // Expect what this client wrote last (often still there), or a stale guess.
        op = Op::cas(general_key(k), last_written[k].empty() ? "none" : last_written[k], value);
      } else {
        op = Op::del(general_key(k));
      }
      if (op.kind == OpKind::put || op.kind == OpKind::cas) last_written[k] = value;
    }
    // The invocation is written with the completion, stamped with the time before the
    // request could leave: an operation that was never sent is left out entirely.
    const std::uint64_t invoked = monotonic_ns();
    const client::Result r = connection->execute(op);
    if (r.status != Status::unavailable && r.status != Status::invalid_argument &&
        r.status != Status::too_large) {
      history.event(process, invoke_line(op), invoked);
    }
    const std::string what = std::string(to_string(op.kind)) + " " + quote(op.key);
    switch (r.status) {
      case Status::ok:
        ++counts.ok;
        history.event(process, "ok " + what + (op.kind == OpKind::get ? " " + quote(r.value) : ""));
        break;
      case Status::not_found:  // get: absent; del: was absent
        ++counts.ok;
        history.event(process, op.kind == OpKind::get ? "ok " + what + " nil" : "fail " + what);
        break;
      case Status::cas_mismatch:
        ++counts.ok;
        history.event(process, "fail " + what + " " + quote(r.value));
        break;
      case Status::too_large:
      case Status::invalid_argument:
      case Status::unavailable:
        // Definitely not executed (the client library guarantees it): not in the
        // history. Back off: the cluster is between primaries or out of client slots.
        ++counts.failed;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        next = std::chrono::steady_clock::now();
        break;
      case Status::timed_out:
      case Status::session_evicted:
        ++counts.indeterminate;
        history.event(process, "info " + what);
        // A new identity: the old one may still have this operation in flight.
        process += o.clients;
        connection = std::make_unique<client::Client>(options);
        break;
    }
  }
  return counts;
}

}  // namespace vsr::chaos
