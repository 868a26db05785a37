// vsr-supervisor: runs a cluster of vsr-replica processes and controls it.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include "supervisor/config.h"
#include "supervisor/control.h"
#include "supervisor/supervisor.h"

namespace sv = vsr::supervisor;

namespace {

constexpr int kFailed = 1;
constexpr int kUsage = 2;

std::filesystem::path sibling_binary(const char* name) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path(name) : self.parent_path() / name;
}

// Sends a command to the running supervisor and prints its answer.
int command(const std::string& cluster, const std::vector<std::string>& words) {
  const auto reply = sv::send_command(cluster, words);
  if (!reply) {
    std::cerr << "vsr-supervisor: no supervisor is running for cluster '" << cluster
              << "' (start one with `vsr-supervisor start --cluster " << cluster << "`)\n";
    return kFailed;
  }
  (reply->ok ? std::cout : std::cerr) << reply->text;
  return reply->ok ? 0 : kFailed;
}

int start_foreground(sv::Config config) {
  sv::Supervisor supervisor(std::move(config));
  try {
    supervisor.start();
  } catch (const std::exception& e) {
    std::cerr << "vsr-supervisor: " << e.what() << "\n";
    return kFailed;
  }
  return supervisor.run();
}

// Forks a daemon that runs the cluster; returns 0 once every replica is up and a
// primary is normal, or non-zero with the reason.
int start_detached(sv::Config config) {
  if (config.data.empty()) config.data = sv::default_data_dir(config.cluster);
  std::error_code ec;
  std::filesystem::create_directories(config.data, ec);
  const auto log_path = config.data / "supervisor.log";
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    std::perror("vsr-supervisor: pipe");
    return kFailed;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("vsr-supervisor: fork");
    return kFailed;
  }
  if (pid == 0) {
    ::close(ready[0]);
    if (!config.keep_session) ::setsid();
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    sv::Supervisor supervisor(std::move(config));
    std::string message = "ok\n";
    try {
      supervisor.start();
    } catch (const std::exception& e) {
      message = std::string("error ") + e.what() + "\n";
    }
    [[maybe_unused]] ssize_t n = ::write(ready[1], message.data(), message.size());
    ::close(ready[1]);
    if (message != "ok\n") ::_exit(kFailed);
    ::_exit(supervisor.run());
  }
  ::close(ready[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(ready[0], buffer, sizeof(buffer))) > 0;) message.append(buffer, n);
  ::close(ready[0]);
  if (message.rfind("ok", 0) != 0) {
    std::cerr << "vsr-supervisor: "
              << (message.empty() ? "the supervisor died while starting; see " + log_path.string()
                                  : message.substr(6));
    return kFailed;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto reply = sv::send_command(config.cluster, {"ready"});
    if (!reply) {
      std::cerr << "vsr-supervisor: the supervisor exited while starting; see "
                << log_path.string() << "\n";
      return kFailed;
    }
    if (reply->ok) {
      std::cout << "cluster " << config.cluster << " is up (supervisor pid " << pid << ", log "
                << log_path.string() << ")\n"
                << reply->text;
      return 0;
    }
    last = reply->text;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::cerr << "vsr-supervisor: the cluster did not become ready within 30 s: " << last
            << "it keeps trying; `vsr-supervisor status` shows it, `vsr-supervisor stop` stops it\n";
  return kFailed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Runs a vsr-shm cluster: N replica processes that replicate a key-value store through "
      "shared memory (Viewstamped Replication), and controls it: kill, pause, partition, wipe "
      "and restart replicas to exercise view changes, recovery and state transfer.\n\n"
      "Exit codes: 0 success, 1 failure (the message says why; also when no supervisor is "
      "running), 2 usage error.",
      "vsr-supervisor"};
  app.require_subcommand(1);
  app.failure_message(CLI::FailureMessage::help);
  std::string cluster = "default";
  const auto add_cluster = [&](CLI::App* sub) {
    sub->add_option("--cluster", cluster, "cluster name")->capture_default_str();
  };

  sv::Config config;
  std::string restart = "on-crash";
  auto* start = app.add_subcommand("start", "start a cluster (foreground; Ctrl-C stops it)");
  add_cluster(start);
  start->add_option("--replicas", config.replicas, "number of replicas: 1, 3, 5 or 7")
      ->check(CLI::IsMember({1, 3, 5, 7}))
      ->capture_default_str();
  start->add_option("--data", config.data,
                    "data directory (default: $VSR_DATA/<cluster>, else "
                    "$XDG_STATE_HOME/vsr-shm/<cluster>, else ~/.local/state/vsr-shm/<cluster>)");
  start->add_option("--sync", config.sync,
                    "none: every write reaches the page cache before anything depends on it "
                    "(survives killed processes); batch: one fdatasync per batch (survives "
                    "losing the host)")
      ->check(CLI::IsMember({"none", "batch"}))
      ->capture_default_str();
  start->add_option("--client-slots", config.client_slots, "client processes that can attach at once")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  start->add_option("--restart", restart,
                    "never, or on-crash: restart a replica that died unexpectedly (not one "
                    "taken down with `kill`)")
      ->check(CLI::IsMember({"never", "on-crash"}))
      ->capture_default_str();
  start->add_flag("--detach", config.detach,
                  "run in the background; returns once every replica is up and a primary is "
                  "normal");
  start
      ->add_flag("--keep-session", config.keep_session,
                 "with --detach: stay in this session (no setsid), so that clients started from "
                 "it share the replicas' scheduling group under Linux autogroup: lower latency "
                 "when busy processes outnumber the cores (README \"Performance\"); the cluster "
                 "may then stop when the session ends")
      ->needs("--detach");
  start->add_option("--replica-binary", config.replica_binary, "vsr-replica to run (default: next to this program)");
  start->add_option("--replica-arg", config.replica_args, "extra argument for vsr-replica (repeatable)")
      ->allow_extra_args(false);

  auto* stop = app.add_subcommand("stop", "stop every replica and remove the shared-memory segment");
  add_cluster(stop);
  bool json = false;
  auto* status = app.add_subcommand("status", "per replica: id, pid, state, role, view, op, commit, lag");
  add_cluster(status);
  status->add_flag("--json", json, "one JSON object with a `replicas` array");
  std::uint32_t id = 0;
  std::string signal = "KILL";
  auto* kill = app.add_subcommand("kill", "send a signal to a replica (it is not restarted on-crash)");
  add_cluster(kill);
  kill->add_option("ID", id, "replica id")->required();
  kill->add_option("--signal", signal, "KILL, TERM, STOP or CONT")
      ->check(CLI::IsMember({"KILL", "TERM", "STOP", "CONT"}))
      ->capture_default_str();
  bool wipe = false;
  auto* restart_cmd = app.add_subcommand("restart", "restart a replica (SIGKILL, then start)");
  add_cluster(restart_cmd);
  restart_cmd->add_option("ID", id, "replica id")->required();
  restart_cmd->add_flag("--wipe", wipe,
                        "empty its data directory first: it rejoins through the recovery protocol");
  auto* pause = app.add_subcommand("pause", "SIGSTOP a replica");
  add_cluster(pause);
  pause->add_option("ID", id, "replica id")->required();
  auto* resume = app.add_subcommand("resume", "SIGCONT a replica");
  add_cluster(resume);
  resume->add_option("ID", id, "replica id")->required();
  std::vector<std::string> groups;
  auto* partition = app.add_subcommand(
      "partition", "cut links between groups: `partition 0,1 2` lets 0 and 1 talk, isolates 2");
  add_cluster(partition);
  partition->add_option("GROUP", groups, "comma-separated replica ids")->required();
  auto* heal = app.add_subcommand("heal", "restore every link");
  add_cluster(heal);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kUsage;
  }
  if (!sv::valid_cluster_name(cluster)) {
    std::cerr << "vsr-supervisor: the cluster name must be 1-64 of [A-Za-z0-9_.-]\n";
    return kUsage;
  }
  if (*start) {
    config.cluster = cluster;
    config.restart = restart == "never" ? sv::RestartPolicy::never : sv::RestartPolicy::on_crash;
    if (config.replica_binary.empty()) config.replica_binary = sibling_binary("vsr-replica");
    if (!std::filesystem::exists(config.replica_binary)) {
      std::cerr << "vsr-supervisor: cannot find vsr-replica at " << config.replica_binary
                << " (use --replica-binary)\n";
      return kFailed;
    }
    return config.detach ? start_detached(config) : start_foreground(config);
  }
  if (*stop) {
    const int rc = command(cluster, {"stop"});
    if (rc != 0) return rc;
    // Returns once the supervisor is gone, so that "stop" means stopped.
    for (int i = 0; i < 1000 && sv::send_command(cluster, {"status"}, 1000); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
  }
  if (*status) return json ? command(cluster, {"status", "--json"}) : command(cluster, {"status"});
  if (*kill) return command(cluster, {"kill", std::to_string(id), signal});
  if (*restart_cmd) {
    return command(cluster, wipe ? std::vector<std::string>{"restart", std::to_string(id), "--wipe"}
                                 : std::vector<std::string>{"restart", std::to_string(id)});
  }
  if (*pause) return command(cluster, {"pause", std::to_string(id)});
  if (*resume) return command(cluster, {"resume", std::to_string(id)});
  if (*partition) {
    std::vector<std::string> words = {"partition"};
    words.insert(words.end(), groups.begin(), groups.end());
    return command(cluster, words);
  }
  if (*heal) return command(cluster, {"heal"});
  return kUsage;
}
