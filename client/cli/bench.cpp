#include "client/cli/bench.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/cli/exit_codes.h"
#include "client/cli/histogram.h"
#include "client/cli/sched_group.h"
#include "common/assert.h"

namespace vsr::client::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
double us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

struct Tally {
  LatencyHistogram latency_ns;
  std::uint64_t answered = 0;  // definite answers (ok, not found, cas mismatch, too large)
  std::uint64_t timed_out = 0;
  std::uint64_t session_evicted = 0;
  std::uint64_t unavailable = 0;
  std::uint64_t invalid = 0;
  std::uint64_t errors() const { return timed_out + session_evicted + unavailable + invalid; }

  void add(const Completion& c) {
    switch (c.result.status) {
      case Status::ok:
      case Status::not_found:
      case Status::cas_mismatch:
      case Status::too_large:
        ++answered;
        latency_ns.record(static_cast<std::uint64_t>(c.latency.count()));
        return;
      case Status::timed_out:
        ++timed_out;
        return;
      case Status::session_evicted:
        ++session_evicted;
        return;
      case Status::unavailable:
        ++unavailable;
        return;
      case Status::invalid_argument:
        ++invalid;
        return;
    }
  }
};

class Workload {
 public:
  explicit Workload(const BenchOptions& b)
      : bench_(b), random_(std::random_device{}()), value_(b.value_size, 'v') {
    // Varied bytes, so that nothing downstream can profit from a run of one byte.
    for (std::size_t i = 0; i < value_.size(); ++i)
      value_[i] = static_cast<char>('a' + i % 26);
  }
  Op next() {
    std::string key = "bench-" + std::to_string(key_(random_) % bench_.keys);
    if (ratio_(random_) < bench_.read_ratio) return Op::get(std::move(key));
    return Op::put(std::move(key), value_);
  }

 private:
  const BenchOptions& bench_;
  std::mt19937_64 random_;
  std::uniform_int_distribution<std::uint64_t> key_;
  std::uniform_real_distribution<double> ratio_{0.0, 1.0};
  std::string value_;
};

void print_progress(bool tty, double elapsed_s, const Tally& t, std::uint64_t last_second_ops,
                    std::size_t in_flight) {
  std::fprintf(stderr, "%sbench: %.0f s, %llu ops, %llu ops/s, %zu in flight, %llu errors%s",
               tty ? "\r" : "", elapsed_s, static_cast<unsigned long long>(t.answered),
               static_cast<unsigned long long>(last_second_ops), in_flight,
               static_cast<unsigned long long>(t.errors()), tty ? "\x1b[K" : "\n");
  std::fflush(stderr);
}

void print_report(const Options& options, const BenchOptions& b, const Tally& t, double elapsed_s,
                  SchedGroup group) {
  const double rate = elapsed_s > 0 ? static_cast<double>(t.answered) / elapsed_s : 0;
  const LatencyHistogram& h = t.latency_ns;
  if (b.json) {
    std::printf(
        "{\"cluster\": \"%s\", \"sessions\": %zu, \"value_size\": %zu, \"read_ratio\": %.3f, "
        "\"keys\": %llu, \"ops\": %llu, \"duration_s\": %.3f, \"ops_per_sec\": %.1f, "
        "\"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
        "\"max_us\": %.1f, \"timed_out\": %llu, \"session_evicted\": %llu, "
        "\"unavailable\": %llu, \"invalid\": %llu, \"sched_group\": \"%s\"}\n",
        options.cluster.c_str(), b.sessions, b.value_size, b.read_ratio,
        static_cast<unsigned long long>(b.keys), static_cast<unsigned long long>(t.answered),
        elapsed_s, rate, us(h.percentile(0.5)), us(h.percentile(0.9)), us(h.percentile(0.99)),
        us(h.percentile(0.999)), us(h.max()), static_cast<unsigned long long>(t.timed_out),
        static_cast<unsigned long long>(t.session_evicted),
        static_cast<unsigned long long>(t.unavailable), static_cast<unsigned long long>(t.invalid),
        to_string(group));
    return;
  }
  std::printf("cluster '%s': %zu sessions, %zu-byte values, read ratio %.2f, %llu keys\n",
              options.cluster.c_str(), b.sessions, b.value_size, b.read_ratio,
              static_cast<unsigned long long>(b.keys));
  std::printf("throughput  %.1f ops/s (%llu ops in %.2f s)\n", rate,
              static_cast<unsigned long long>(t.answered), elapsed_s);
  std::printf("latency us  p50 %.1f  p90 %.1f  p99 %.1f  p999 %.1f  max %.1f\n",
              us(h.percentile(0.5)), us(h.percentile(0.9)), us(h.percentile(0.99)),
              us(h.percentile(0.999)), us(h.max()));
  std::printf("errors      %llu timed out, %llu session evicted, %llu unavailable\n",
              static_cast<unsigned long long>(t.timed_out),
              static_cast<unsigned long long>(t.session_evicted),
              static_cast<unsigned long long>(t.unavailable));
  std::printf("sched group %s (this process vs the replicas)\n", to_string(group));
}

// Says so when the replicas run in another autogroup: the numbers are then not what
// the same cluster gives clients of its own session.
SchedGroup check_sched_group(const Options& options) {
  std::vector<unsigned long long> pids;
  for (const ReplicaInfo& r : read_cluster_status(options.cluster).replicas) {
    if (r.process_alive) pids.push_back(r.pid);
  }
  const SchedGroup group = sched_group_with(pids);
  if (group == SchedGroup::different) {
    std::fprintf(stderr,
                 "vsr-client bench: note: the replicas run in another scheduling group (Linux "
                 "autogroup: another session); with more busy processes than cores, latency is "
                 "higher than for clients in their session (start the cluster with "
                 "`vsr-supervisor start --detach --keep-session` from this session; README "
                 "\"Performance\")\n");
  }
  return group;
}

}  // namespace

int run_bench(const Options& options, const BenchOptions& b) {
  std::optional<Pipeline> pipeline;
  try {
    pipeline.emplace(options, b.sessions);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "vsr-client: %s\n", e.what());
    return kExitUsage;
  }
  // Registering the sessions first keeps set-up out of the measurement.
  if (const Result r = pipeline->connect(); !r.ok()) {
    std::fprintf(stderr, "vsr-client: %s: %s\n", to_string(r.status), r.message.c_str());
    return kExitUnavailable;
  }
  const SchedGroup group = check_sched_group(options);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  Workload workload(b);
  Tally tally;
  std::uint64_t issued = 0;
  const auto start = Clock::now();
  const auto stop_issuing = start + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(b.duration_s));
  auto may_issue = [&](Clock::time_point now) {
    return b.ops ? issued < *b.ops : now < stop_issuing;
  };
  auto issue = [&] {
    // At most one operation per session waits, far below queue_max.
    const auto ticket = pipeline->submit(workload.next());
    VSR_ASSERT_MSG(ticket.has_value(), "bench: the pipeline's queue is full");
    ++issued;
  };
  for (std::size_t i = 0; i < b.sessions && may_issue(start); ++i)
    issue();

  auto last_completion = start;
  auto next_progress = start + std::chrono::seconds(1);
  std::uint64_t answered_at_last_progress = 0;
  std::vector<Completion> done;
  while (pipeline->outstanding() > 0) {
    done.clear();
    pipeline->poll(done, std::chrono::milliseconds(100));
    const auto now = Clock::now();
    for (const Completion& c : done) {
      tally.add(c);
      last_completion = now;
      // Closed loop: a completion frees its session for the next operation.
      if (may_issue(now)) issue();
    }
    if (now >= next_progress) {
      print_progress(tty, seconds(now - start), tally, tally.answered - answered_at_last_progress,
                     pipeline->outstanding());
      answered_at_last_progress = tally.answered;
      next_progress = now + std::chrono::seconds(1);
    }
  }
  if (tty && next_progress > start + std::chrono::seconds(1)) std::fputc('\n', stderr);
  print_report(options, b, tally, seconds(last_completion - start), group);
  return tally.answered > 0 ? kExitSuccess : kExitUnavailable;
}

}  // namespace vsr::client::cli
