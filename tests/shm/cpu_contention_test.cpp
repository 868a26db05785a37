// CpuContention: the /proc/loadavg reading that lets wait() poll without yielding.
#include "shm/cpu_contention.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

namespace vsr::shm {
namespace {

using namespace std::chrono_literals;

TEST(LoadavgLine, RunningCountIsTheNumberBeforeTheSlash) {
  EXPECT_EQ(parse_loadavg_running("0.68 1.39 1.46 2/77 10004\n"), 2u);
  EXPECT_EQ(parse_loadavg_running("12.00 9.50 3.25 130/4077 99"), 130u);
}

TEST(LoadavgLine, AnythingElseIsRefused) {
  EXPECT_FALSE(parse_loadavg_running(""));
  EXPECT_FALSE(parse_loadavg_running("0.68 1.39 1.46"));            // no fourth field
  EXPECT_FALSE(parse_loadavg_running("0.68 1.39 1.46 77 10004"));   // no slash
  EXPECT_FALSE(parse_loadavg_running("0.68 1.39 1.46 /77 10004"));  // empty count
  EXPECT_FALSE(parse_loadavg_running("0.68 1.39 1.46 x2/77 1"));
  EXPECT_FALSE(parse_loadavg_running("0.68 1.39 1.46 0/77 1"));            // the reader itself runs
  EXPECT_FALSE(parse_loadavg_running("0.68 1.39 1.46 99999999999/77 1"));  // overflow
}

class FakeLoadavg : public ::testing::Test {
 protected:
  void write(const std::string& line) {
    const int fd = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    ::close(fd);
  }
  void TearDown() override { std::remove(path_.c_str()); }
  // A fresh reading of `path` (default: the fake file) by a machine of `cpus` CPUs.
  static bool contended(const std::string& path, std::uint32_t cpus) {
    CpuContention contention(path, cpus);
    contention.refresh(1s);
    return contention.contended();
  }
  std::string path_ = "/tmp/vsr-loadavg-test-" + std::to_string(::getpid());
};

TEST_F(FakeLoadavg, ContendedOnlyWithMoreRunnableTasksThanCpus) {
  write("0.00 0.00 0.00 2/100 1\n");
  EXPECT_TRUE(CpuContention(path_, 2).contended());  // no reading yet
  EXPECT_FALSE(contended(path_, 2));
  write("0.00 0.00 0.00 3/100 1\n");
  EXPECT_TRUE(contended(path_, 2));
  EXPECT_FALSE(contended(path_, 4));
}

TEST_F(FakeLoadavg, AReadingIsReusedForItsInterval) {
  write("0.00 0.00 0.00 1/100 1\n");
  CpuContention contention(path_, 2);
  contention.refresh(1s);
  EXPECT_FALSE(contention.contended());
  write("0.00 0.00 0.00 5/100 1\n");
  contention.refresh(1s + CpuContention::kInterval - 1ns);
  EXPECT_FALSE(contention.contended());
  contention.refresh(1s + CpuContention::kInterval);
  EXPECT_TRUE(contention.contended());
}

TEST_F(FakeLoadavg, UnreadableOrGarbledMeansContended) {
  EXPECT_TRUE(contended(path_ + "-missing", 64));
  write("garbage\n");
  EXPECT_TRUE(contended(path_, 64));
}

TEST(ProcLoadavg, TheRealFileParses) {
  std::ifstream file("/proc/loadavg");
  std::string line;
  ASSERT_TRUE(std::getline(file, line));
  const auto running = parse_loadavg_running(line);
  ASSERT_TRUE(running.has_value()) << line;
  EXPECT_GE(*running, 1u);  // at least this test
}

}  // namespace
}  // namespace vsr::shm
