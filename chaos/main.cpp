// vsr-chaos: a Jepsen-style crash-recovery test of a real vsr-shm cluster.
//
// It starts its own cluster through vsr-supervisor, runs client processes that record
// every operation, injects faults with a nemesis, then heals everything, waits for the
// replicas to converge and checks: the history is linearizable (vsr-check), every
// acknowledged append is in the final value exactly once, and every replica holds the
// same committed history. Exit 0 only when every check passed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "chaos/history_file.h"
#include "chaos/nemesis.h"
#include "chaos/options.h"
#include "chaos/workload.h"
#include "check/check.h"
#include "check/parse.h"
#include "check/report.h"
#include "shm/segment.h"
#include "supervisor/control.h"
#include "vsr/client.h"

namespace vsr::chaos {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Process numbers of the final reads, above any client's.
constexpr std::uint64_t kFinalReader = 1'000'000'000;

std::filesystem::path sibling(const char* name) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path(name) : self.parent_path() / name;
}

int run_and_wait(const std::vector<std::string>& args, const std::filesystem::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* out = std::fopen(log.c_str(), "a");
    if (out) {
      ::dup2(::fileno(out), 1);
      ::dup2(::fileno(out), 2);
    }
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// A vsr-chaos killed before it stopped its cluster leaves the segment of
// `chaos-<its pid>` behind (and perhaps replicas attached to it). Clean those of dead
// runs: nobody else would ever start a cluster of that name again.
void sweep_dead_runs() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string name = entry.path().filename().string();
    const std::string prefix = "vsr-chaos-";
    if (!name.starts_with(prefix)) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t owner = static_cast<pid_t>(std::stol(digits));
    if (::kill(owner, 0) == 0 || errno != ESRCH) continue;  // that run is still going
    const std::string cluster = "chaos-" + digits;
    const shm::SegmentProbe probe = shm::Segment::probe(cluster);
    if (probe.state != shm::SegmentProbe::State::dead) continue;
    for (const std::uint32_t pid : probe.attached_pids) ::kill(static_cast<pid_t>(pid), SIGKILL);
    if (shm::Segment::remove(cluster)) {
      std::cout << "vsr-chaos: removed the segment of an earlier run that died (" << cluster << ")\n";
    }
  }
}

struct Observation {
  std::optional<std::uint32_t> primary;
  std::set<std::uint32_t> recovering;
  std::set<std::uint32_t> normal;                     // alive and normal
  std::map<std::uint32_t, std::uint64_t> board_pids;  // the pid on each board
  std::uint64_t max_commit = 0;
  std::uint64_t max_view = 0;
  bool converged = false;
  bool digests_agree = false;
  std::string states;
};

Observation observe(const std::string& cluster, std::uint32_t replicas) {
  Observation o;
  const client::ClusterStatus status = client::read_cluster_status(cluster);
  if (!status.available) return o;
  bool converged = status.replicas.size() == replicas;
  std::optional<std::tuple<std::uint64_t, std::uint64_t>> common;
  std::optional<std::tuple<std::uint64_t, std::uint64_t>> fingerprint;
  bool agree = true;
  for (const client::ReplicaInfo& r : status.replicas) {
    const bool live = r.process_alive && r.pid != 0;
    if (live && r.status == "recovering") o.recovering.insert(r.id);
    if (live && r.status == "normal") o.normal.insert(r.id);
    o.board_pids[r.id] = r.pid;
    if (live && r.role == "primary" && r.status == "normal") o.primary = r.id;
    if (live) {
      o.max_commit = std::max(o.max_commit, r.commit);
      o.max_view = std::max(o.max_view, r.view);
    }
    const auto mine = std::tuple{r.view, r.commit};
    if (!live || r.status != "normal" || r.op != r.commit || (common && *common != mine)) {
      converged = false;
    }
    common = mine;
    // At one commit number, one history (the entry's checksum chains over all of it)
    // and one state.
    const auto print = std::tuple{r.commit_checksum, r.state_digest};
    if (fingerprint && *fingerprint != print) agree = false;
    fingerprint = print;
    char print_text[40];
    std::snprintf(print_text, sizeof(print_text), "/%04llx/%04llx",
                  static_cast<unsigned long long>(r.commit_checksum & 0xffff),
                  static_cast<unsigned long long>(r.state_digest & 0xffff));
    o.states += " r" + std::to_string(r.id) + "=" + (live ? r.status : "down") + "/v" +
                std::to_string(r.view) + "/c" + std::to_string(r.commit) + print_text;
  }
  o.converged = converged;
  o.digests_agree = converged && agree;
  return o;
}

// Every acknowledged append on an append-only key is in that key's final value exactly
// once, and every token in the final value was appended by someone.
std::vector<std::string> check_appends(const check::History& history, std::uint64_t* checked) {
  std::vector<std::string> problems;
  std::map<std::string, std::set<std::string>> acknowledged, invoked;
  std::map<std::string, std::optional<std::string>> final_value;
  for (const check::OpRecord& op : history.ops()) {
    if (op.op.key.empty() || op.op.key[0] != 'a') continue;
    if (op.op.f == check::Fn::append && op.op.arg) {
      invoked[op.op.key].insert(*op.op.arg);
      if (op.outcome == check::Outcome::ok) acknowledged[op.op.key].insert(*op.op.arg);
    }
    if (op.op.f == check::Fn::get && op.outcome == check::Outcome::ok &&
        op.process.value() >= kFinalReader) {
      final_value[op.op.key] = op.result;
    }
  }
  for (const auto& [key, tokens] : invoked) {
    if (!final_value.contains(key)) {
      problems.push_back("no final read of " + key);
      continue;
    }
    std::map<std::string, int> seen;
    std::stringstream in(final_value[key].value_or(""));
    for (std::string token; std::getline(in, token, ',');) {
      if (!token.empty()) ++seen[token + ","];
    }
    for (const std::string& a : acknowledged[key]) {
      ++*checked;
      if (!seen.contains(a)) problems.push_back("acknowledged append " + a + " to " + key + " is missing");
    }
    for (const auto& [token, count] : seen) {
      if (count > 1) problems.push_back("append " + token + " is in " + key + " " + std::to_string(count) + " times");
      if (!tokens.contains(token)) problems.push_back(token + " in " + key + " was never appended");
    }
  }
  return problems;
}

int run(Options o) {
  sweep_dead_runs();
  if (o.cluster.empty()) o.cluster = "chaos-" + std::to_string(::getpid());
  if (o.seed == 0) o.seed = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
  const std::uint32_t f = (o.replicas - 1) / 2;
  const std::uint32_t max_down = o.max_down.value_or(f);
  std::filesystem::path work = o.keep;
  if (work.empty()) work = std::filesystem::temp_directory_path() / ("vsr-chaos-" + o.cluster);
  // Only what an earlier run of ours left: --keep may name a directory with other files.
  std::filesystem::create_directories(work);
  std::filesystem::remove_all(work / "data");
  for (const auto& entry : std::filesystem::directory_iterator(work)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("history") || name.starts_with("counts-") || name == "final.txt" ||
        name == "schedule.txt" || name == "start.log") {
      std::filesystem::remove(entry.path());
    }
  }
  const auto data = work / "data";
  std::cout << "vsr-chaos: cluster " << o.cluster << ", " << o.replicas << " replicas, sync " << o.sync
            << ", " << o.duration.count() << " s, " << o.clients << " clients, " << o.keys
            << " keys, faults every " << o.interval.count() << " ms, max down " << max_down
            << ", seed " << o.seed << "\n  work directory " << work.string() << std::endl;

  std::vector<std::string> start = {sibling("vsr-supervisor").string(), "start", "--cluster", o.cluster,
                                    "--replicas", std::to_string(o.replicas), "--data", data.string(),
                                    "--sync", o.sync, "--detach", "--restart", "never"};
  start.insert(start.end(), o.start_args.begin(), o.start_args.end());
  if (run_and_wait(start, work / "start.log") != 0) {
    std::cerr << "vsr-chaos: the cluster did not start; see " << (work / "start.log").string() << "\n";
    return 2;
  }

  // Clients: separate processes, one history file each.
  const auto started = Clock::now();
  const auto deadline = started + o.duration;
  std::vector<pid_t> clients;
  std::vector<std::filesystem::path> files;
  for (std::uint32_t i = 0; i < o.clients; ++i) {
    files.push_back(work / ("history-" + std::to_string(i) + ".txt"));
    std::filesystem::remove(files.back());
    const pid_t pid = ::fork();
    if (pid == 0) {
      WorkloadOptions w{o.cluster, i,     o.clients,    o.keys,  o.seed * 1000 + i,
                        deadline,  o.op_timeout, files.back(), o.rate, started};
      const WorkloadCounts c = run_workload(w);
      std::ofstream(work / ("counts-" + std::to_string(i) + ".txt"))
          << c.ok << " " << c.failed << " " << c.indeterminate << "\n";
      ::_exit(0);
    }
    clients.push_back(pid);
  }

  std::mt19937_64 random(o.seed);
  std::vector<std::string> schedule;
  Nemesis nemesis(o, max_down, random, schedule);
  std::uint64_t view_changes = 0, last_view = 0, last_commit = 0;
  auto last_progress = Clock::now();
  std::chrono::nanoseconds longest_stall{0};
  std::vector<std::string> anomalies;
  // More than f faulty: after a grace for commits already in flight, nothing may
  // commit (a replica catching up never raises the largest commit number).
  bool overloaded = false;
  bool baseline_taken = false;
  Clock::time_point overloaded_since;
  std::uint64_t baseline_commit = 0;
  auto next_crash_check = Clock::now();
  while (Clock::now() < deadline) {
    const Observation ob = observe(o.cluster, o.replicas);
    const auto now = Clock::now();
    if (ob.max_view > last_view) {
      view_changes += ob.max_view - last_view;
      last_view = ob.max_view;
    }
    if (ob.max_commit > last_commit) {
      last_commit = ob.max_commit;
      last_progress = now;
    }
    longest_stall = std::max(longest_stall, std::chrono::nanoseconds(now - last_progress));
    nemesis.observe(ob.recovering, ob.normal, ob.board_pids);
    if (nemesis.faulty() > f) {
      if (!overloaded) overloaded_since = now;
      overloaded = true;
      if (!baseline_taken && now - overloaded_since > 300ms) {
        baseline_taken = true;
        baseline_commit = ob.max_commit;
      }
      if (baseline_taken && ob.max_commit > baseline_commit) {
        anomalies.push_back("commit advanced from " + std::to_string(baseline_commit) + " to " +
                            std::to_string(ob.max_commit) + " while " +
                            std::to_string(nemesis.faulty()) + " replicas were faulty");
        baseline_commit = ob.max_commit;
      }
    } else {
      overloaded = baseline_taken = false;
    }
    nemesis.step(now, ob.primary);
    if (now >= next_crash_check) {
      next_crash_check = now + 250ms;
      for (std::string& crash : nemesis.restart_crashed()) anomalies.push_back(std::move(crash));
    }
    std::this_thread::sleep_for(5ms);
  }
  for (pid_t pid : clients) ::waitpid(pid, nullptr, 0);

  // Heal everything and wait for convergence.
  nemesis.heal_all();
  for (std::string& crash : nemesis.restart_crashed()) anomalies.push_back(std::move(crash));
  Observation ob;
  // A run that already failed waits less: the verdict stands, the rest is for the report.
  const auto converge_deadline = Clock::now() + (anomalies.empty() ? 120s : 15s);
  while (Clock::now() < converge_deadline) {
    ob = observe(o.cluster, o.replicas);
    if (ob.converged) break;
    std::this_thread::sleep_for(20ms);
  }
  if (!ob.converged) anomalies.push_back("no convergence after healing:" + ob.states);
  if (ob.converged && !ob.digests_agree) {
    anomalies.push_back("replicas at the same commit hold different histories or states:" + ob.states);
  }

  // Final reads, recorded like any other operation.
  {
    HistoryWriter final_reads(work / "final.txt");
    client::Options options;
    options.cluster = o.cluster;
    options.timeout = 10s;
    client::Client reader(options);
    std::vector<std::string> keys;
    for (std::uint32_t n = 0; n < general_keys(o.keys); ++n) keys.push_back(general_key(n));
    const auto generations = o.duration.count() / kAppendKeySeconds + 1;
    for (std::uint32_t n = 0; n < append_keys(o.keys); ++n) {
      for (std::int64_t g = 0; g <= generations; ++g) keys.push_back(append_key(n, g));
    }
    const std::uint64_t process = kFinalReader;
    for (const std::string& key : keys) {
      final_reads.event(process, "invoke get " + quote(key));
      const client::Result r = reader.get(key);
      if (r.status == client::Status::ok || r.status == client::Status::not_found) {
        final_reads.event(process, "ok get " + quote(key) + " " + quote(r.value));
      } else {
        final_reads.event(process, "info get " + quote(key));
        anomalies.push_back("final read of " + key + " failed: " + r.message);
        if (!ob.converged) break;  // the cluster is stuck: do not wait out every key
      }
    }
    files.push_back(work / "final.txt");
  }
  merge_histories(files, work / "history.txt");

  // Counts.
  std::uint64_t ok = 0, failed = 0, indeterminate = 0;
  for (std::uint32_t i = 0; i < o.clients; ++i) {
    std::ifstream in(work / ("counts-" + std::to_string(i) + ".txt"));
    std::uint64_t a = 0, b = 0, c = 0;
    in >> a >> b >> c;
    ok += a;
    failed += b;
    indeterminate += c;
  }

  // Linearizability and acknowledged appends.
  bool linearizable = false;
  std::size_t history_ops = 0;
  std::uint64_t appends_checked = 0;
  const check::ParseResult parsed = check::parse_file(work / "history.txt", check::Format::native);
  if (parsed.error) {
    anomalies.push_back("the history does not parse: line " + std::to_string(parsed.error->line.value()) +
                        ": " + parsed.error->message);
  } else {
    history_ops = parsed.history.size();
    check::Options check_options;
    check_options.timeout = 600s;
    check_options.memory_limit_bytes = std::size_t{4} << 30;
    const check::CheckResult result = check::check(parsed.history, check_options);
    linearizable = result.verdict == check::Verdict::linearizable;
    if (!linearizable) {
      std::ostringstream report;
      check::print_result(report, parsed.history, result);
      anomalies.push_back("linearizability: " + report.str());
    }
    for (std::string& p : check_appends(parsed.history, &appends_checked)) anomalies.push_back(std::move(p));
  }

  std::ofstream(work / "schedule.txt") << [&] {
    std::string s;
    for (const auto& line : schedule) s += line + "\n";
    return s;
  }();
  // The replicas' logs, before stopping removes nothing (they stay in data/).
  run_and_wait({sibling("vsr-supervisor").string(), "stop", "--cluster", o.cluster}, work / "start.log");

  const auto& injected = nemesis.counts().injected;
  const auto count = [&](Fault fault) {
    auto it = injected.find(fault);
    return it == injected.end() ? 0 : it->second;
  };
  std::cout << "duration: " << o.duration.count() << " s\n"
            << "operations: " << ok << " ok, " << failed << " failed, " << indeterminate
            << " indeterminate (" << history_ops << " in the history)\n"
            << "faults: kill " << count(Fault::kill) << " (primary " << nemesis.counts().primary_kills
            << "), pause " << count(Fault::pause) << ", partition " << count(Fault::partition)
            << ", wipe " << count(Fault::wipe) << "\n"
            << "view changes seen: " << view_changes << "; longest time without a commit: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(longest_stall).count() << " ms\n"
            << "final state:" << ob.states << "\n"
            << "linearizable: " << (linearizable ? "yes" : "NO") << "; acknowledged appends found: "
            << appends_checked << "; replicas agree: " << (ob.digests_agree ? "yes" : "NO") << "\n";
  for (const std::string& a : anomalies) std::cout << "ANOMALY: " << a << "\n";
  const bool pass = anomalies.empty();
  std::cout << "verdict: " << (pass ? "PASS" : "FAIL") << "\n";
  if (pass && o.keep.empty()) {
    std::filesystem::remove_all(work);
  } else {
    std::cout << "kept: " << work.string() << " (history.txt, schedule.txt, data/replica-*/replica.log)\n";
  }
  return pass ? 0 : 1;
}

}  // namespace
}  // namespace vsr::chaos

int main(int argc, char** argv) {
  using namespace vsr::chaos;
  CLI::App app{
      "Jepsen-style crash-recovery test of a real vsr-shm cluster: starts a cluster, runs client "
      "processes that record every operation, and every --interval injects one fault (SIGKILL a "
      "replica, the primary more often than not; SIGSTOP then SIGCONT; a partition isolating the "
      "primary or splitting the cluster; wipe and restart), never more than --max-down at once. "
      "Then it heals everything, waits for the replicas to converge and checks the history "
      "(linearizable, every acknowledged append present once, replicas agree). Exit code 0 "
      "when every check passed, 1 when one failed (the work directory is kept), 2 when the "
      "cluster could not be started.",
      "vsr-chaos"};
  Options o;
  std::uint64_t duration = 60, interval = 1000;
  std::string faults = "kill,pause,partition,wipe";
  std::uint32_t max_down = 0;
  app.add_option("--cluster", o.cluster, "cluster name (default chaos-<pid>)");
  app.add_option("--replicas", o.replicas, "1, 3, 5 or 7")->check(CLI::IsMember({1, 3, 5, 7}))->capture_default_str();
  app.add_option("--duration", duration, "seconds of load and faults")->capture_default_str();
  app.add_option("--clients", o.clients, "client processes")->check(CLI::Range(1u, 64u))->capture_default_str();
  app.add_option("--keys", o.keys, "keys (half take every operation, half appends only)")
      ->check(CLI::Range(2u, 1000u))
      ->capture_default_str();
  app.add_option("--faults", faults, "comma-separated: kill,pause,partition,wipe (or none)")->capture_default_str();
  app.add_option("--interval", interval, "milliseconds between faults")->capture_default_str();
  auto* max_down_option = app.add_option("--max-down", max_down, "replicas faulty at once (default f)");
  app.add_option("--sync", o.sync, "none or batch")->check(CLI::IsMember({"none", "batch"}))->capture_default_str();
  app.add_option("--seed", o.seed, "fault schedule seed (default: from the clock)");
  app.add_option("--keep", o.keep, "work directory to keep (history, schedule, replica logs)");
  app.add_option("--rate", o.rate, "operations per second per client, at most")
      ->check(CLI::Range(1u, 100000u))
      ->capture_default_str();
  app.add_option("--start-arg", o.start_args, "extra argument for vsr-supervisor start (repeatable)")
      ->allow_extra_args(false);
  CLI11_PARSE(app, argc, argv);
  o.duration = std::chrono::seconds(duration);
  o.interval = std::chrono::milliseconds(std::max<std::uint64_t>(interval, 10));
  if (*max_down_option) o.max_down = max_down;
  o.faults.clear();
  std::stringstream in(faults);
  for (std::string item; std::getline(in, item, ',');) {
    if (item == "kill") o.faults.insert(Fault::kill);
    else if (item == "pause") o.faults.insert(Fault::pause);
    else if (item == "partition") o.faults.insert(Fault::partition);
    else if (item == "wipe") o.faults.insert(Fault::wipe);
    else if (item != "none" && !item.empty()) {
      std::cerr << "vsr-chaos: unknown fault '" << item << "' (kill, pause, partition, wipe)\n";
      return 2;
    }
  }
  return run(o);
}
