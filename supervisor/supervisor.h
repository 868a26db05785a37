// The running supervisor of one cluster: it creates the segment, spawns one
// vsr-replica process per replica, notices a child's death at once (SIGCHLD through
// a signalfd), tells the replicas (the segment's down hint), restarts crashed
// replicas if asked to, and serves the control channel (control.h):
//
//   status [--json] | ready | stop | kill ID [SIGNAL] | restart ID [--wipe] |
//   pause ID | resume ID | partition GROUP... | heal
//
// Single-threaded: one poll() loop over the signalfd and the control socket.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shm/shm.h"
#include "supervisor/config.h"
#include "supervisor/control.h"

namespace vsr::supervisor {

struct ReplicaProcess {
  enum class State { down, up, paused };
  std::uint32_t id = 0;
  pid_t pid = 0;
  State state = State::down;
  // False after a deliberate kill or stop: a replica the operator took down is not
  // restarted by the on-crash policy (restart ID brings it back).
  bool wanted = true;
  std::uint32_t starts = 0;
  std::string last_exit;
  std::optional<std::chrono::steady_clock::time_point> restart_at;
  std::chrono::milliseconds backoff{50};
  std::chrono::steady_clock::time_point started;
};

const char* to_string(ReplicaProcess::State state);

class Supervisor {
 public:
  explicit Supervisor(Config config);
  ~Supervisor();

  // Binds the control socket, cleans up what a crashed supervisor left, prepares the
  // data directory, creates the segment and spawns the replicas. Throws
  // std::runtime_error with a message that says what to do.
  void start();
  // Serves until a stop command, SIGTERM or SIGINT; then stops every replica, removes
  // the segment and returns the exit code.
  int run();

  const std::filesystem::path& data() const { return config_.data; }

 private:
  void prepare_data_dir();
  void spawn(ReplicaProcess& replica);
  void reap();
  void handle_signals();
  void handle_request(ControlServer::Request& request);
  void restart_due();
  void shutdown();
  bool stop_replica(ReplicaProcess& replica, int signal, std::chrono::milliseconds wait);
  std::string status_text() const;
  std::string status_json() const;
  std::optional<std::string> not_ready_reason() const;
  std::filesystem::path replica_dir(std::uint32_t id) const;
  void log(const std::string& line) const;

  Config config_;
  std::uint64_t cluster_id_ = 0;
  std::optional<ControlServer> control_;
  std::optional<shm::Segment> segment_;
  std::vector<ReplicaProcess> replicas_;
  int signal_fd_ = -1;
  bool stopping_ = false;
  bool announced_ready_ = false;
};

}  // namespace vsr::supervisor
