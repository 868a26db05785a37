#include "supervisor/supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "replica/core/types.h"
#include "replica/process/event_loop.h"
#include "supervisor/cluster_file.h"
#include "supervisor/leftovers.h"

namespace vsr::supervisor {

namespace {

using Clock = std::chrono::steady_clock;

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return std::string("killed by signal ") + ::sigabbrev_np(WTERMSIG(status));
  }
  return "stopped";
}

std::optional<int> parse_signal(const std::string& name) {
  if (name == "KILL") return SIGKILL;
  if (name == "TERM") return SIGTERM;
  if (name == "STOP") return SIGSTOP;
  if (name == "CONT") return SIGCONT;
  return std::nullopt;
}

// In a forked child: becomes `args[0]` with `args`, or exits 127 saying why.
[[noreturn]] void exec_or_exit(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  std::fprintf(stderr, "vsr-supervisor: cannot run %s: %s\n", argv[0], std::strerror(errno));
  ::_exit(127);
}

// Runs a program to completion (output to ours) and returns its wait status.
int run_and_wait(std::vector<std::string> args) {
  const pid_t pid = ::fork();
  if (pid == 0) exec_or_exit(args);
  int status = 0;
  while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return pid < 0 ? -1 : status;
}

std::uint64_t fresh_cluster_id() {
  std::random_device device;
  std::uint64_t id = 0;
  while (id == 0) id = (std::uint64_t{device()} << 32) | device();
  return id;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

const char* to_string(ReplicaProcess::State state) {
  switch (state) {
    case ReplicaProcess::State::down:
      return "down";
    case ReplicaProcess::State::up:
      return "up";
    case ReplicaProcess::State::paused:
      return "paused";
  }
  return "?";
}

Supervisor::Supervisor(Config config) : config_(std::move(config)) {
  if (config_.data.empty()) config_.data = default_data_dir(config_.cluster);
  replicas_.resize(config_.replicas);
  for (std::uint32_t i = 0; i < config_.replicas; ++i) replicas_[i].id = i;
}

Supervisor::~Supervisor() {
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

void Supervisor::log(const std::string& line) const {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%F %T", std::localtime(&now));
  std::cout << stamp << " vsr-supervisor[" << config_.cluster << "]: " << line << std::endl;
}

std::filesystem::path Supervisor::replica_dir(std::uint32_t id) const {
  return config_.data / ("replica-" + std::to_string(id));
}

void Supervisor::start() {
  // The control socket first: holding it is what makes us the only supervisor.
  control_ = ControlServer::bind(config_.cluster);
  if (!control_) {
    throw std::runtime_error("cluster '" + config_.cluster +
                             "' is already running: `vsr-supervisor status --cluster " +
                             config_.cluster + "` shows it; `vsr-supervisor stop` stops it");
  }
  // Leftovers of a supervisor that died: its replicas (they hold their data
  // directories) and its segment (Segment::create removes a stale one).
  if (const std::size_t killed = kill_leftover_replicas(config_.cluster); killed > 0) {
    log("stopped " + std::to_string(killed) + " replica process(es) left by a previous supervisor");
  }
  if (shm::Segment::remove_if_stale(config_.cluster)) {
    log("removed the shared-memory segment left by a previous supervisor");
  }
  prepare_data_dir();

  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, s);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal_fd_ = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));

  shm::SegmentConfig segment;
  segment.cluster = config_.cluster;
  segment.replica_count = config_.replicas;
  segment.client_slots = config_.client_slots;
  segment.cluster_id = cluster_id_;
  segment.generation = static_cast<std::uint64_t>(std::time(nullptr));
  try {
    segment_.emplace(shm::Segment::create(segment));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot create the shared-memory segment: ") + e.what());
  }
  log("segment " + shm::Segment::object_name(config_.cluster) + " created (" +
      std::to_string(segment_->size_bytes() >> 20) + " MiB), data in " + config_.data.string());
  for (ReplicaProcess& r : replicas_) spawn(r);
}

void Supervisor::prepare_data_dir() {
  std::error_code ec;
  std::filesystem::create_directories(config_.data, ec);
  if (ec || ::access(config_.data.c_str(), W_OK) != 0) {
    throw std::runtime_error("cannot use the data directory " + config_.data.string() + ": " +
                             (ec ? ec.message() : std::strerror(errno)) +
                             " (choose another with --data)");
  }
  ::chmod(config_.data.c_str(), 0700);
  const auto existing = read_cluster_file(config_.data);
  if (existing) {
    if (existing->name != config_.cluster) {
      throw std::runtime_error(config_.data.string() + " holds cluster '" + existing->name +
                               "', not '" + config_.cluster + "'");
    }
    if (existing->replicas != config_.replicas) {
      throw std::runtime_error("cluster '" + config_.cluster + "' was created with " +
                               std::to_string(existing->replicas) +
                               " replicas; start it with --replicas " +
                               std::to_string(existing->replicas) +
                               " (membership changes are not supported)");
    }
    cluster_id_ = existing->cluster_id;
    return;
  }
  // A new cluster: every replica starts from the same empty, trustworthy state.
  cluster_id_ = fresh_cluster_id();
  for (std::uint32_t i = 0; i < config_.replicas; ++i) {
    std::vector<std::string> args = {config_.replica_binary.string(), "format",
                                     "--cluster-id", std::to_string(cluster_id_),
                                     "--replicas", std::to_string(config_.replicas),
                                     "--id", std::to_string(i),
                                     "--data", config_.data.string()};
    for (const std::string& a : config_.replica_args) args.push_back(a);
    if (const int status = run_and_wait(args); status != 0) {
      throw std::runtime_error("formatting " + replica_dir(i).string() + " failed (" +
                               describe_exit(status) + "); see the message above");
    }
  }
  write_cluster_file(config_.data, ClusterFile{config_.cluster, cluster_id_, config_.replicas});
  log("created cluster '" + config_.cluster + "' with " + std::to_string(config_.replicas) +
      " replicas");
}

void Supervisor::spawn(ReplicaProcess& replica) {
  const auto dir = replica_dir(replica.id);
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  const std::string log_path = (dir / "replica.log").string();
  std::vector<std::string> args = {config_.replica_binary.string(),
                                   "--cluster", config_.cluster,
                                   "--id", std::to_string(replica.id),
                                   "--data", config_.data.string(),
                                   "--sync", config_.sync};
  for (const std::string& a : config_.replica_args) args.push_back(a);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  const pid_t pid = ::fork();
  if (pid < 0) {
    log("cannot fork replica " + std::to_string(replica.id) + ": " + std::strerror(errno));
    replica.restart_at = Clock::now() + std::chrono::seconds(1);
    if (log_fd >= 0) ::close(log_fd);
    return;
  }
  if (pid == 0) {
    // The child: its own process group (a Ctrl-C at the terminal reaches only the
    // supervisor, which stops replicas in order), default signal mask, output to
    // its replica.log.
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    exec_or_exit(args);
  }
  if (log_fd >= 0) ::close(log_fd);
  replica.pid = pid;
  replica.state = ReplicaProcess::State::up;
  replica.wanted = true;
  replica.restart_at.reset();
  replica.started = Clock::now();
  ++replica.starts;
  log("replica " + std::to_string(replica.id) + " started (pid " + std::to_string(pid) + ")");
}

void Supervisor::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (ReplicaProcess& r : replicas_) {
      if (r.pid != pid) continue;
      r.pid = 0;
      r.state = ReplicaProcess::State::down;
      r.last_exit = describe_exit(status);
      // Tell the others at once: they may start a view change without waiting for
      // their timeout. (A hint: they are safe without it.)
      if (segment_) segment_->signal_replica_down(r.id);
      log("replica " + std::to_string(r.id) + " " + r.last_exit);
      if (r.wanted && config_.restart == RestartPolicy::on_crash && !stopping_) {
        // Back off on a crash loop; a replica that ran a while starts the backoff over.
        if (Clock::now() - r.started > std::chrono::seconds(10)) r.backoff = std::chrono::milliseconds(50);
        r.restart_at = Clock::now() + r.backoff;
        r.backoff = std::min(r.backoff * 2, std::chrono::milliseconds(2000));
      }
    }
  }
}

void Supervisor::restart_due() {
  const auto now = Clock::now();
  for (ReplicaProcess& r : replicas_) {
    if (r.state == ReplicaProcess::State::down && r.restart_at && now >= *r.restart_at) spawn(r);
  }
}

void Supervisor::handle_signals() {
  signalfd_siginfo info{};
  while (::read(signal_fd_, &info, sizeof(info)) == sizeof(info)) {
    if (info.ssi_signo == SIGCHLD) {
      reap();
    } else {
      log(std::string("received SIG") + ::sigabbrev_np(static_cast<int>(info.ssi_signo)) +
          ": stopping");
      stopping_ = true;
    }
  }
}

bool Supervisor::stop_replica(ReplicaProcess& replica, int signal, std::chrono::milliseconds wait) {
  if (replica.pid == 0) return true;
  if (replica.state == ReplicaProcess::State::paused) ::kill(replica.pid, SIGCONT);
  ::kill(replica.pid, signal);
  const auto deadline = Clock::now() + wait;
  while (Clock::now() < deadline) {
    int status = 0;
    const pid_t pid = ::waitpid(replica.pid, &status, WNOHANG);
    if (pid == replica.pid) {
      replica.pid = 0;
      replica.state = ReplicaProcess::State::down;
      replica.last_exit = describe_exit(status);
      if (segment_) segment_->signal_replica_down(replica.id);
      log("replica " + std::to_string(replica.id) + " " + replica.last_exit);
      return true;
    }
    ::usleep(2000);
  }
  return false;
}

void Supervisor::shutdown() {
  for (ReplicaProcess& r : replicas_) {
    r.wanted = false;
    if (r.pid != 0) {
      if (r.state == ReplicaProcess::State::paused) ::kill(r.pid, SIGCONT);
      ::kill(r.pid, SIGTERM);
    }
  }
  for (ReplicaProcess& r : replicas_) {
    if (r.pid != 0 && !stop_replica(r, SIGTERM, std::chrono::seconds(5))) {
      log("replica " + std::to_string(r.id) + " ignored SIGTERM: killing it");
      stop_replica(r, SIGKILL, std::chrono::seconds(5));
    }
  }
  segment_.reset();
  shm::Segment::remove(config_.cluster);
  log("stopped; segment removed");
}

std::optional<std::string> Supervisor::not_ready_reason() const {
  bool primary_normal = false;
  for (const ReplicaProcess& r : replicas_) {
    if (r.state != ReplicaProcess::State::up) {
      return "replica " + std::to_string(r.id) + " is " + to_string(r.state) +
             (r.last_exit.empty() ? "" : " (" + r.last_exit + ")");
    }
    const shm::ReplicaStatus board = segment_->status(r.id).read();
    if (board.pid != static_cast<std::uint64_t>(r.pid)) {
      return "replica " + std::to_string(r.id) + " has not started serving yet";
    }
    if (board.role == static_cast<std::uint32_t>(process::Role::primary) &&
        board.status == static_cast<std::uint32_t>(Status::normal)) {
      primary_normal = true;
    }
  }
  if (!primary_normal) return "no primary is normal yet";
  return std::nullopt;
}

std::string Supervisor::status_text() const {
  std::ostringstream out;
  out << "cluster " << config_.cluster << " (supervisor pid " << ::getpid() << ", data "
      << config_.data.string() << ", sync " << config_.sync << ")\n";
  out << "  id      pid  state   role     status          view        op    commit    lag\n";
  std::uint64_t top = 0;
  for (const ReplicaProcess& r : replicas_) {
    const shm::ReplicaStatus b = segment_->status(r.id).read();
    if (r.pid != 0 && b.pid == static_cast<std::uint64_t>(r.pid)) top = std::max(top, b.commit);
  }
  for (const ReplicaProcess& r : replicas_) {
    const shm::ReplicaStatus b = segment_->status(r.id).read();
    const bool fresh = r.pid != 0 && b.pid == static_cast<std::uint64_t>(r.pid);
    char line[160];
    if (fresh) {
      std::snprintf(line, sizeof(line), "  %2u %8d  %-6s  %-7s  %-14s %5llu %9llu %9llu %6llu\n",
                    r.id, r.pid, to_string(r.state),
                    b.role == static_cast<std::uint32_t>(process::Role::primary) ? "primary" : "backup",
                    std::string(vsr::to_string(static_cast<Status>(b.status))).c_str(),
                    static_cast<unsigned long long>(b.view), static_cast<unsigned long long>(b.op),
                    static_cast<unsigned long long>(b.commit),
                    static_cast<unsigned long long>(top - std::min(top, b.commit)));
    } else {
      std::snprintf(line, sizeof(line), "  %2u %8s  %-6s  %-7s  %-14s %5s %9s %9s %6s%s\n", r.id,
                    r.pid ? std::to_string(r.pid).c_str() : "-", to_string(r.state), "-", "-", "-",
                    "-", "-", "-", r.last_exit.empty() ? "" : ("  " + r.last_exit).c_str());
    }
    out << line;
  }
  return out.str();
}

std::string Supervisor::status_json() const {
  std::ostringstream out;
  std::uint64_t top = 0;
  for (const ReplicaProcess& r : replicas_) {
    const shm::ReplicaStatus b = segment_->status(r.id).read();
    if (r.pid != 0 && b.pid == static_cast<std::uint64_t>(r.pid)) top = std::max(top, b.commit);
  }
  out << "{\"cluster\":" << json_string(config_.cluster) << ",\"supervisor_pid\":" << ::getpid()
      << ",\"data\":" << json_string(config_.data.string()) << ",\"sync\":"
      << json_string(config_.sync) << ",\"replicas\":[";
  for (const ReplicaProcess& r : replicas_) {
    const shm::ReplicaStatus b = segment_->status(r.id).read();
    const bool fresh = r.pid != 0 && b.pid == static_cast<std::uint64_t>(r.pid);
    if (r.id != 0) out << ",";
    out << "{\"id\":" << r.id << ",\"pid\":" << (r.pid ? std::to_string(r.pid) : "null")
        << ",\"state\":" << json_string(to_string(r.state));
    if (fresh) {
      out << ",\"role\":"
          << json_string(b.role == static_cast<std::uint32_t>(process::Role::primary) ? "primary"
                                                                                         : "backup")
          << ",\"status\":" << json_string(std::string(vsr::to_string(static_cast<Status>(b.status))))
          << ",\"view\":" << b.view << ",\"op\":" << b.op << ",\"commit\":" << b.commit
          << ",\"lag\":" << (top - std::min(top, b.commit));
    } else {
      out << ",\"role\":null,\"status\":null,\"view\":null,\"op\":null,\"commit\":null,\"lag\":null";
    }
    out << ",\"starts\":" << r.starts << ",\"last_exit\":" << json_string(r.last_exit) << "}";
  }
  out << "]}\n";
  return out.str();
}

void Supervisor::handle_request(ControlServer::Request& request) {
  const std::vector<std::string>& w = request.words;
  const auto replica_arg = [&](std::size_t at) -> ReplicaProcess* {
    if (w.size() <= at) return nullptr;
    try {
      const unsigned long id = std::stoul(w[at]);
      if (id < replicas_.size()) return &replicas_[id];
    } catch (const std::exception&) {
    }
    return nullptr;
  };
  const std::string& command = w[0];
  const std::string ids = "0.." + std::to_string(replicas_.size() - 1);
  if (command == "status") {
    const bool json = w.size() > 1 && w[1] == "--json";
    return ControlServer::answer(request, true, json ? status_json() : status_text());
  }
  if (command == "ready") {
    const auto reason = not_ready_reason();
    return ControlServer::answer(request, !reason, reason ? *reason + "\n" : status_text());
  }
  if (command == "stop") {
    stopping_ = true;
    return ControlServer::answer(request, true, "stopping cluster " + config_.cluster + "\n");
  }
  if (command == "heal") {
    segment_->links().heal_all();
    log("healed every partition");
    return ControlServer::answer(request, true, "all links up\n");
  }
  if (command == "partition") {
    // Every listed group talks within itself; replicas in no group are cut off alone.
    std::vector<int> group_of(replicas_.size(), -1);
    for (std::size_t g = 1; g < w.size(); ++g) {
      std::stringstream in(w[g]);
      for (std::string item; std::getline(in, item, ',');) {
        ReplicaProcess* r = nullptr;
        try {
          const unsigned long id = std::stoul(item);
          if (id < replicas_.size()) r = &replicas_[id];
        } catch (const std::exception&) {
        }
        if (r == nullptr || group_of[r->id] != -1) {
          return ControlServer::answer(
              request, false, "bad group '" + w[g] + "': use replica ids " + ids +
                                  ", each in at most one group, e.g. `partition 0,1 2`\n");
        }
        group_of[r->id] = static_cast<int>(g);
      }
    }
    if (w.size() < 2) return ControlServer::answer(request, false, "partition needs groups, e.g. `partition 0,1 2`\n");
    for (std::uint32_t a = 0; a < replicas_.size(); ++a) {
      for (std::uint32_t b = 0; b < replicas_.size(); ++b) {
        segment_->links().set(a, b, a == b || (group_of[a] != -1 && group_of[a] == group_of[b]));
      }
    }
    std::string text;
    for (std::size_t g = 1; g < w.size(); ++g) text += (g > 1 ? " | " : "") + w[g];
    log("partition " + text);
    return ControlServer::answer(request, true, "partitioned: " + text + "\n");
  }
  ReplicaProcess* r = replica_arg(1);
  if (r == nullptr) {
    return ControlServer::answer(request, false,
                                 command == "kill" || command == "restart" || command == "pause" ||
                                         command == "resume"
                                     ? command + " needs a replica id in " + ids + "\n"
                                     : "unknown command '" + command + "'\n");
  }
  const std::string who = "replica " + std::to_string(r->id);
  if (command == "kill") {
    const std::string signal_name = w.size() > 2 ? w[2] : "KILL";
    const auto signal = parse_signal(signal_name);
    if (!signal) return ControlServer::answer(request, false, "signal must be KILL, TERM, STOP or CONT\n");
    if (r->pid == 0) return ControlServer::answer(request, false, who + " is not running\n");
    if (*signal == SIGKILL || *signal == SIGTERM) r->wanted = false;  // not restarted on-crash
    ::kill(r->pid, *signal);
    // SIGKILL cannot be caught: tell the replicas now rather than at SIGCHLD, which
    // comes only once the kernel has torn the process down (its mappings: several ms
    // at times). Only a hint; the death is recorded when it is reaped.
    if (*signal == SIGKILL && segment_) segment_->signal_replica_down(r->id);
    if (*signal == SIGSTOP) r->state = ReplicaProcess::State::paused;
    if (*signal == SIGCONT) r->state = ReplicaProcess::State::up;
    log("sent SIG" + signal_name + " to " + who);
    return ControlServer::answer(request, true, "signal sent to " + who + " (pid " + std::to_string(r->pid) + ")\n");
  }
  if (command == "pause" || command == "resume") {
    if (r->pid == 0) return ControlServer::answer(request, false, who + " is not running\n");
    const bool pause = command == "pause";
    ::kill(r->pid, pause ? SIGSTOP : SIGCONT);
    r->state = pause ? ReplicaProcess::State::paused : ReplicaProcess::State::up;
    log((pause ? "paused " : "resumed ") + who);
    return ControlServer::answer(request, true, (pause ? "paused " : "resumed ") + who + "\n");
  }
  if (command == "restart") {
    const bool wipe = w.size() > 2 && w[2] == "--wipe";
    r->wanted = false;
    if (r->pid != 0 && !stop_replica(*r, SIGKILL, std::chrono::seconds(5))) {
      return ControlServer::answer(request, false, who + " did not die after SIGKILL\n");
    }
    if (wipe) {
      // Everything but the process's own log goes: the replica restarts without
      // state and rejoins through the recovery protocol.
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(replica_dir(r->id), ec)) {
        if (entry.path().filename() != "replica.log") std::filesystem::remove_all(entry.path(), ec);
      }
      log("wiped " + replica_dir(r->id).string());
    }
    spawn(*r);
    return ControlServer::answer(request, true, (wipe ? "wiped and restarted " : "restarted ") + who +
                                                    " (pid " + std::to_string(r->pid) + ")\n");
  }
  ControlServer::answer(request, false, "unknown command '" + command + "'\n");
}

int Supervisor::run() {
  while (!stopping_) {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {control_->fd(), POLLIN, 0}};
    ::poll(fds, 2, 20);
    if (fds[0].revents & POLLIN) handle_signals();
    if (fds[1].revents & POLLIN) {
      if (auto request = control_->accept()) handle_request(*request);
    }
    restart_due();
    if (!announced_ready_ && !not_ready_reason()) {
      announced_ready_ = true;
      log("ready:\n" + status_text());
    }
  }
  shutdown();
  return 0;
}

}  // namespace vsr::supervisor
