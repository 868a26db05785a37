// A real cluster for one multi-process test: vsr-supervisor started detached under a
// unique name with a temporary data directory, driven through the command-line
// programs exactly as a user would, and stopped (and checked for leftovers) at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vsr::test {

struct Exit {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program to completion with arguments (no shell), capturing its output.
Exit run_program(const std::string& program, const std::vector<std::string>& args,
                const std::string& input = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(60));
std::string bin(const std::string& name);  // path of one of our programs

struct ReplicaState {
  std::uint32_t id = 0;
  std::int64_t pid = 0;
  std::string state;  // up | down | paused
  std::string role;   // primary | backup | "" when unknown
  std::string status;
  std::uint64_t view = 0;
  std::uint64_t op = 0;
  std::uint64_t commit = 0;
  bool known = false;  // role/view/op/commit come from a live status board
};

class Cluster {
 public:
  explicit Cluster(std::uint32_t replicas = 3, std::vector<std::string> start_args = {});
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const std::string& name() const { return name_; }
  const std::filesystem::path& data() const { return data_; }
  const Exit& start_result() const { return started_; }

  Exit supervisor(std::vector<std::string> args);  // adds --cluster
  Exit client(std::vector<std::string> args, const std::string& input = {});  // adds --cluster
  std::vector<ReplicaState> status();
  std::optional<std::uint32_t> primary();  // a normal primary, if any
  // Polls status until `done` holds or the timeout passes.
  bool wait_for(const std::function<bool(const std::vector<ReplicaState>&)>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Stops the cluster; true if the supervisor, the replicas and the segment are gone.
  bool stop_and_check_clean(std::string* why = nullptr);

 private:
  std::string name_;
  std::filesystem::path data_;
  std::uint32_t replicas_;
  Exit started_;
  bool stopped_ = false;
};

// Every replica normal in one view with the same commit (and op == commit).
bool converged(const std::vector<ReplicaState>& replicas);

}  // namespace vsr::test
