// Helpers for the shm tests: unique cluster names, segments removed at the end, forked
// children, and message bodies whose every byte can be checked.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "common/codec.h"
#include "shm/segment.h"

namespace vsr::shm::test {

// Unique per process and call: ctest runs tests in parallel, each in its own process.
inline std::string unique_cluster(const char* tag) {
  static std::atomic<int> counter{0};
  return std::string("t-") + tag + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

// A created segment that is removed when the test ends, pass or fail.
struct TestSegment {
  explicit TestSegment(const char* tag, std::uint32_t replicas = 3, std::uint32_t slots = 4)
      : cluster(unique_cluster(tag)),
        segment(Segment::create(SegmentConfig{cluster, replicas, slots, 0, 0})) {}
  ~TestSegment() { Segment::remove(cluster); }
  std::string cluster;
  Segment segment;
};

// Runs `body` in a forked child; the child's exit code is body's return value (99 if it
// threw). The child never returns into gtest.
template <typename F>
pid_t spawn(F&& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  return pid;
}

// Waits for a child; returns its exit code, or 128 + signal.
inline int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

inline void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  reap(pid);
}

// Memory shared with forked children (results, progress), zeroed.
template <typename T>
class SharedBlock {
 public:
  SharedBlock() {
    void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    value_ = new (p) T();
  }
  ~SharedBlock() { ::munmap(value_, sizeof(T)); }
  SharedBlock(const SharedBlock&) = delete;
  T* operator->() { return value_; }
  T& operator*() { return *value_; }

 private:
  T* value_;
};

// A message body that encodes its sequence number and size, and whose every byte is
// derived from them, so a receiver can check it whole.
inline Bytes make_body(std::uint64_t seq, std::size_t size) {
  if (size < 16) size = 16;
  Bytes body(size);
  std::memcpy(body.data(), &seq, 8);
  const std::uint64_t size64 = size;
  std::memcpy(body.data() + 8, &size64, 8);
  for (std::size_t i = 16; i < size; ++i) {
    body[i] = static_cast<std::byte>((seq * 131 + i * 7) & 0xff);
  }
  return body;
}

// Returns the sequence number if the body is intact, or UINT64_MAX.
inline std::uint64_t check_body(ByteView body) {
  if (body.size() < 16) return UINT64_MAX;
  std::uint64_t seq = 0;
  std::uint64_t size = 0;
  std::memcpy(&seq, body.data(), 8);
  std::memcpy(&size, body.data() + 8, 8);
  if (size != body.size()) return UINT64_MAX;
  for (std::size_t i = 16; i < body.size(); ++i) {
    if (body[i] != static_cast<std::byte>((seq * 131 + i * 7) & 0xff)) return UINT64_MAX;
  }
  return seq;
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace vsr::shm::test
