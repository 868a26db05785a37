// failover-bench: unavailability after SIGKILL of the primary, under load.
//
// Against a running cluster (the supervisor must run: it does the kills and tells the
// replicas at once, which is the hint that starts the view change). A writer thread
// keeps a closed loop of puts going through the pipelined client. For each round the
// bench reads the primary off the status boards, has the supervisor SIGKILL it, and
// measures from just before the kill command:
//   view change   until a replica is primary of a higher view and normal (its board);
//   first commit  until that new primary's board shows a commit above every commit
//                 number seen at the kill (the definition of unavailability);
//   client        until the writer next completes a put successfully.
// Then it restarts the killed replica, waits until every replica is normal in one view
// and caught up, lets the load settle, and goes again. Prints p50/p99/max of each.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "replica/core/types.h"
#include "replica/process/event_loop.h"
#include "shm/shm.h"
#include "supervisor/control.h"
#include "vsr/client.h"

namespace {

using Clock = std::chrono::steady_clock;
using vsr::client::ClusterStatus;
using vsr::client::Op;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

struct Args {
  std::string cluster = "default";
  std::uint32_t kills = 20;
  std::size_t sessions = 4;
  std::uint32_t settle_ms = 300;
  std::uint32_t round_timeout_ms = 5000;
  bool json = false;
};

// The writer: closed-loop puts on `sessions` sessions; publishes when the last put
// completed successfully.
class Writer {
 public:
  explicit Writer(const Args& args) : args_(args) {}
  void start() { thread_ = std::thread([this] { run(); }); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  std::int64_t last_ok_ns() const { return last_ok_ns_.load(std::memory_order_acquire); }
  std::uint64_t ok() const { return ok_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  bool connected() const { return connected_.load(); }

 private:
  void run() {
    vsr::client::Options options;
    options.cluster = args_.cluster;
    options.timeout = std::chrono::milliseconds(args_.round_timeout_ms);
    vsr::client::Pipeline pipeline(options, args_.sessions);
    if (!pipeline.connect().ok()) return;
    connected_.store(true);
    const std::string value(64, 'f');
    std::uint64_t n = 0;
    auto submit = [&] { (void)pipeline.submit(Op::put("failover-" + std::to_string(n++ % 64), value)); };
    for (std::size_t i = 0; i < args_.sessions; ++i) submit();
    std::vector<vsr::client::Completion> done;
    while (!stop_.load(std::memory_order_relaxed)) {
      done.clear();
      pipeline.poll(done, std::chrono::milliseconds(10));
      for (const auto& c : done) {
        if (c.result.ok()) {
          ok_.fetch_add(1, std::memory_order_relaxed);
          last_ok_ns_.store(now_ns(), std::memory_order_release);
        } else {
          failed_.fetch_add(1, std::memory_order_relaxed);
        }
        submit();
      }
    }
    while (pipeline.outstanding() > 0) {
      done.clear();
      pipeline.poll(done, std::chrono::milliseconds(100));
    }
  }

  const Args& args_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::int64_t> last_ok_ns_{0};
  std::atomic<std::uint64_t> ok_{0};
  std::atomic<std::uint64_t> failed_{0};
};

std::optional<vsr::client::ReplicaInfo> primary_of(const ClusterStatus& s) {
  std::optional<vsr::client::ReplicaInfo> best;
  for (const auto& r : s.replicas) {
    if (!r.process_alive || r.role != "primary" || r.status != "normal") continue;
    if (!best || r.view > best->view) best = r;
  }
  return best;
}

// Every replica alive, normal, in one view, and within a few ops of the primary.
bool healthy(const ClusterStatus& s) {
  if (!s.available || s.replicas.empty()) return false;
  const auto p = primary_of(s);
  if (!p) return false;
  for (const auto& r : s.replicas) {
    if (!r.process_alive || r.status != "normal" || r.view != p->view) return false;
    if (r.commit + 1000 < p->commit) return false;
  }
  return true;
}

bool wait_healthy(const std::string& cluster, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (healthy(vsr::client::read_cluster_status(cluster))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Series {
  const char* name;
  std::vector<double> ms;
};

int run(const Args& args) {
  if (!vsr::supervisor::send_command(args.cluster, {"status"})) {
    std::fprintf(stderr,
                 "failover-bench: no supervisor runs cluster '%s' (start one: vsr-supervisor start "
                 "--cluster %s --detach)\n",
                 args.cluster.c_str(), args.cluster.c_str());
    return 2;
  }
  if (!wait_healthy(args.cluster, std::chrono::seconds(10))) {
    std::fprintf(stderr, "failover-bench: cluster '%s' is not healthy (every replica normal)\n",
                 args.cluster.c_str());
    return 2;
  }
  vsr::shm::Segment segment = vsr::shm::Segment::attach(args.cluster);
  Writer writer(args);
  writer.start();
  for (int i = 0; i < 500 && !writer.connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!writer.connected()) {
    writer.stop();
    std::fprintf(stderr, "failover-bench: the writer could not register its sessions\n");
    return 2;
  }
  Series view_change{"view change", {}}, first_commit{"first commit", {}}, client{"client", {}};
  std::uint32_t failed_rounds = 0;
  for (std::uint32_t round = 0; round < args.kills; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(args.settle_ms));
    const ClusterStatus before = vsr::client::read_cluster_status(args.cluster);
    const auto old = primary_of(before);
    if (!old) {
      ++failed_rounds;
      continue;
    }
    std::uint64_t commit_at_kill = 0;
    for (const auto& r : before.replicas) commit_at_kill = std::max(commit_at_kill, r.commit);

    const std::int64_t t0 = now_ns();
    const auto reply = vsr::supervisor::send_command(args.cluster, {"kill", std::to_string(old->id)});
    const std::int64_t t_killed = now_ns();
    if (!reply || !reply->ok) {
      std::fprintf(stderr, "failover-bench: kill failed: %s\n", reply ? reply->text.c_str() : "no supervisor");
      break;
    }
    std::int64_t t_view = 0, t_commit = 0, t_client = 0;
    const std::int64_t limit = t0 + std::int64_t{args.round_timeout_ms} * 1'000'000;
    // The boards straight from the segment, attached once: a poll costs well under a
    // microsecond, where read_cluster_status() maps the segment each time (~1 ms).
    while (now_ns() < limit && (t_view == 0 || t_commit == 0 || t_client == 0)) {
      const std::int64_t t = now_ns();
      for (std::uint32_t id = 0; id < segment.replica_count(); ++id) {
        const vsr::shm::ReplicaStatus b = segment.status(id).read();
        if (id == old->id || !b.consistent || b.view <= old->view ||
            b.role != static_cast<std::uint32_t>(vsr::process::Role::primary) ||
            b.status != static_cast<std::uint32_t>(vsr::Status::normal)) {
          continue;
        }
        if (t_view == 0) t_view = t;
        if (t_commit == 0 && b.commit > commit_at_kill) t_commit = t;
      }
      const std::int64_t ok_at = writer.last_ok_ns();
      if (t_client == 0 && ok_at > t_killed) t_client = ok_at;
      // Sleep, not yield: a spinning observer takes CPU the replicas need (2 cores,
      // and the killed process is being torn down on one of them).
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    if (t_view == 0 || t_commit == 0 || t_client == 0) {
      ++failed_rounds;
      std::fprintf(stderr, "failover-bench: round %u did not complete within %u ms\n", round,
                   args.round_timeout_ms);
    } else {
      view_change.ms.push_back(static_cast<double>(t_view - t0) / 1e6);
      first_commit.ms.push_back(static_cast<double>(t_commit - t0) / 1e6);
      client.ms.push_back(static_cast<double>(t_client - t0) / 1e6);
      if (!args.json) {
        std::fprintf(stderr, "round %2u: killed primary %u (view %llu): view change %.2f ms, first commit %.2f ms, client %.2f ms\n",
                     round, old->id, static_cast<unsigned long long>(old->view), view_change.ms.back(),
                     first_commit.ms.back(), client.ms.back());
      }
    }
    const auto restarted = vsr::supervisor::send_command(args.cluster, {"restart", std::to_string(old->id)});
    if (!restarted || !restarted->ok || !wait_healthy(args.cluster, std::chrono::seconds(20))) {
      std::fprintf(stderr, "failover-bench: the cluster did not recover after round %u\n", round);
      ++failed_rounds;
      break;
    }
  }
  writer.stop();
  if (args.json) {
    std::printf("{\"cluster\": \"%s\", \"kills\": %zu, \"failed_rounds\": %u", args.cluster.c_str(),
                view_change.ms.size(), failed_rounds);
    for (const Series* s : {&view_change, &first_commit, &client}) {
      std::string key = s->name;
      std::replace(key.begin(), key.end(), ' ', '_');
      std::printf(", \"%s_p50_ms\": %.3f, \"%s_p99_ms\": %.3f, \"%s_max_ms\": %.3f", key.c_str(),
                  percentile(s->ms, 0.5), key.c_str(), percentile(s->ms, 0.99), key.c_str(),
                  percentile(s->ms, 1.0));
    }
    std::printf("}\n");
  } else {
    std::printf("failover after SIGKILL of the primary, %zu rounds (%u failed), writer %llu ok / %llu failed\n",
                view_change.ms.size(), failed_rounds, static_cast<unsigned long long>(writer.ok()),
                static_cast<unsigned long long>(writer.failed()));
    for (const Series* s : {&view_change, &first_commit, &client}) {
      std::printf("  %-13s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", s->name, percentile(s->ms, 0.5),
                  percentile(s->ms, 0.99), percentile(s->ms, 1.0));
    }
  }
  return failed_rounds == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  CLI::App app{
      "Measures unavailability after SIGKILL of the primary of a running cluster, under a "
      "closed-loop put load: from the kill to the new primary being normal, to its first "
      "commit, and to the client's next successful put. The supervisor must run (it kills and "
      "restarts the primary each round)."};
  app.add_option("--cluster", args.cluster, "cluster name")->capture_default_str();
  app.add_option("--kills", args.kills, "rounds: primary kills")->capture_default_str()->check(CLI::Range(1u, 10000u));
  app.add_option("--sessions", args.sessions, "writer sessions (closed loop)")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--settle-ms", args.settle_ms, "load before each kill")->capture_default_str();
  app.add_option("--round-timeout-ms", args.round_timeout_ms, "give up on a round after this long")
      ->capture_default_str()->check(CLI::Range(100u, 600000u));
  app.add_flag("--json", args.json, "one JSON object on stdout");
  CLI11_PARSE(app, argc, argv);
  return run(args);
}
