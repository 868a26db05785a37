#include "tests/service/cluster.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <thread>

#include "supervisor/leftovers.h"

namespace vsr::test {

namespace {
using Clock = std::chrono::steady_clock;
}

std::string bin(const std::string& name) { return std::string(VSR_BIN_DIR) + "/" + name; }

Exit run_program(const std::string& program, const std::vector<std::string>& args,
                const std::string& input, std::chrono::milliseconds timeout) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) return {};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    std::vector<std::string> copy = args;
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!input.empty()) [[maybe_unused]] auto n = ::write(in[1], input.data(), input.size());
  ::close(in[1]);
  Exit run;
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  while (open > 0 && Clock::now() < deadline) {
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      } else {
        (i == 0 ? run.out : run.err).append(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    run.err += "\n[test: killed after timeout]";
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

Cluster::Cluster(std::uint32_t replicas, std::vector<std::string> start_args)
    : replicas_(replicas) {
  static int counter = 0;
  name_ = "t" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  data_ = std::filesystem::temp_directory_path() / ("vsr-test-" + name_);
  std::filesystem::remove_all(data_);
  std::vector<std::string> args = {"start", "--cluster", name_, "--replicas", std::to_string(replicas),
                                   "--data", data_.string(), "--detach"};
  args.insert(args.end(), start_args.begin(), start_args.end());
  started_ = run_program(bin("vsr-supervisor"), args);
}

Cluster::~Cluster() {
  if (!stopped_) stop_and_check_clean();
  std::error_code ec;
  if (!::getenv("VSR_TEST_KEEP")) std::filesystem::remove_all(data_, ec);
}

Exit Cluster::supervisor(std::vector<std::string> args) {
  args.insert(args.begin() + 1, {"--cluster", name_});
  return run_program(bin("vsr-supervisor"), args);
}

Exit Cluster::client(std::vector<std::string> args, const std::string& input) {
  args.insert(args.begin(), {"--cluster", name_});
  return run_program(bin("vsr-client"), args, input);
}

std::vector<ReplicaState> Cluster::status() {
  const Exit run = supervisor({"status", "--json"});
  std::vector<ReplicaState> replicas;
  if (run.exit_code != 0) return replicas;
  boost::system::error_code ec;
  const boost::json::value doc = boost::json::parse(run.out, ec);
  if (ec) return replicas;
  for (const auto& item : doc.at("replicas").as_array()) {
    const auto& o = item.as_object();
    ReplicaState r;
    r.id = static_cast<std::uint32_t>(o.at("id").as_int64());
    r.pid = o.at("pid").is_null() ? 0 : o.at("pid").as_int64();
    r.state = std::string(o.at("state").as_string());
    r.known = !o.at("role").is_null();
    if (r.known) {
      r.role = std::string(o.at("role").as_string());
      r.status = std::string(o.at("status").as_string());
      r.view = static_cast<std::uint64_t>(o.at("view").as_int64());
      r.op = static_cast<std::uint64_t>(o.at("op").as_int64());
      r.commit = static_cast<std::uint64_t>(o.at("commit").as_int64());
    }
    replicas.push_back(r);
  }
  return replicas;
}

std::optional<std::uint32_t> Cluster::primary() {
  std::optional<std::uint32_t> best;
  std::uint64_t view = 0;
  for (const ReplicaState& r : status()) {
    if (r.known && r.state == "up" && r.role == "primary" && r.status == "normal" &&
        (!best || r.view > view)) {
      best = r.id;
      view = r.view;
    }
  }
  return best;
}

bool Cluster::wait_for(const std::function<bool(const std::vector<ReplicaState>&)>& done,
                       std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const auto s = status();
    if (!s.empty() && done(s)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool Cluster::stop_and_check_clean(std::string* why) {
  stopped_ = true;
  const Exit stop = supervisor({"stop"});
  std::string problem;
  if (stop.exit_code != 0) problem += "stop exited " + std::to_string(stop.exit_code) + ": " + stop.err;
  if (std::filesystem::exists("/dev/shm/vsr-" + name_)) problem += " the segment /dev/shm/vsr-" + name_ + " remains;";
  if (!supervisor::find_replica_processes(name_).empty()) problem += " replica processes remain;";
  if (run_program(bin("vsr-supervisor"), {"status", "--cluster", name_}).exit_code == 0) {
    problem += " a supervisor still answers;";
  }
  if (why) *why = problem;
  return problem.empty();
}

bool converged(const std::vector<ReplicaState>& replicas) {
  if (replicas.empty()) return false;
  for (const ReplicaState& r : replicas) {
    if (!r.known || r.state != "up" || r.status != "normal" || r.view != replicas[0].view ||
        r.commit != replicas[0].commit || r.op != r.commit) {
      return false;
    }
  }
  return true;
}

}  // namespace vsr::test
