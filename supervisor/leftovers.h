// What a crashed supervisor leaves behind, found and cleaned on the next start:
// replica processes of the cluster still running (they hold their data directories)
// and the segment (removed by shm::Segment::create when its creator is dead).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace vsr::supervisor {

// Running vsr-replica processes of this user started with `--cluster <cluster>`.
std::vector<pid_t> find_replica_processes(const std::string& cluster);
// SIGKILLs them and waits (bounded) until they are gone. Returns how many there were.
std::size_t kill_leftover_replicas(const std::string& cluster);

}  // namespace vsr::supervisor
