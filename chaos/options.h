// vsr-chaos's options, with the defaults the README documents.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vsr::chaos {

enum class Fault { kill, pause, partition, wipe };
const char* to_string(Fault fault);

struct Options {
  std::string cluster;  // empty: chaos-<pid>
  std::uint32_t replicas = 3;
  std::chrono::seconds duration{60};
  std::uint32_t clients = 8;
  std::uint32_t keys = 8;
  std::set<Fault> faults = {Fault::kill, Fault::pause, Fault::partition, Fault::wipe};
  std::chrono::milliseconds interval{1000};
  std::optional<std::uint32_t> max_down;  // default f
  std::string sync = "none";
  std::uint64_t seed = 0;  // 0: from the clock
  std::filesystem::path keep;  // empty: a temporary directory, removed on success
  // Passed to `vsr-supervisor start` (tests: a test build of vsr-replica).
  std::vector<std::string> start_args;
  std::chrono::milliseconds op_timeout{2000};
  std::uint32_t rate = 200;  // per client
};

}  // namespace vsr::chaos
