#include "client/cli/commands.h"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "client/cli/exit_codes.h"
#include "client/cli/text.h"

namespace vsr::client::cli {

namespace {

void report_failure(const Op& op, const Result& r) {
  const std::string key = printable(op.key);
  switch (r.status) {
    case Status::ok:
      return;
    case Status::not_found:
      std::fprintf(stderr, "vsr-client: key %s not found\n", key.c_str());
      return;
    case Status::cas_mismatch:
      if (r.value) {
        std::fprintf(stderr, "vsr-client: cas failed: key %s holds %s\n", key.c_str(),
                     printable(*r.value).c_str());
      } else {
        std::fprintf(stderr, "vsr-client: cas failed: key %s does not exist\n", key.c_str());
      }
      return;
    case Status::too_large:
    case Status::invalid_argument:
    case Status::timed_out:
    case Status::session_evicted:
    case Status::unavailable:
      std::fprintf(stderr, "vsr-client: %s: %s\n", to_string(r.status), r.message.c_str());
      return;
  }
}

}  // namespace

int run_operation(const Options& options, const Op& op) {
  std::optional<Client> client;
  try {
    client.emplace(options);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "vsr-client: %s\n", e.what());
    return kExitUsage;
  }
  const Result r = client->execute(op);
  if (r.ok() && op.kind == OpKind::get && r.value) {
    std::fwrite(r.value->data(), 1, r.value->size(), stdout);
    // Raw bytes for pipes and files; a newline only for a human at a terminal.
    if (::isatty(STDOUT_FILENO)) std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  report_failure(op, r);
  return exit_code_for(r.status);
}

int run_status(const std::string& cluster) {
  const ClusterStatus s = read_cluster_status(cluster);
  if (!s.available) {
    std::fprintf(stderr, "vsr-client: %s\n", s.message.c_str());
    return kExitUnavailable;
  }
  std::printf("cluster '%s': %zu replicas, %u client slots (%u in use)\n", s.cluster.c_str(),
              s.replicas.size(), s.client_slots, s.client_slots_in_use);
  std::printf("%-8s %-8s %-8s %-15s %8s %10s %10s  %s\n", "replica", "pid", "role", "status",
              "view", "op", "commit", "heartbeat");
  for (const ReplicaInfo& r : s.replicas) {
    if (r.pid == 0) {
      std::printf("%-8u %-8s %-8s %-15s %8s %10s %10s  %s\n", r.id, "-", "-", "-", "-", "-", "-",
                  r.process_alive ? "starting" : "never (not started)");
      continue;
    }
    char age[64] = "never";
    if (r.heartbeat_age) {
      std::snprintf(age, sizeof(age), "%.2f s ago",
                    static_cast<double>(r.heartbeat_age->count()) / 1e9);
    }
    std::string heartbeat = age;
    if (!r.process_alive) heartbeat += " (process gone)";
    if (!r.consistent) heartbeat += " (board mid-update)";
    std::printf("%-8u %-8" PRIu64 " %-8s %-15s %8" PRIu64 " %10" PRIu64 " %10" PRIu64 "  %s\n",
                r.id, r.pid, r.role.c_str(), r.status.c_str(), r.view, r.op, r.commit,
                heartbeat.c_str());
  }
  return kExitSuccess;
}

}  // namespace vsr::client::cli
