// vsr-client's helpers: the latency histogram, exit codes, quoting, bounded stdin reads,
// the scheduling-group report.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include <unistd.h>

#include "client/cli/exit_codes.h"
#include "client/cli/histogram.h"
#include "client/cli/sched_group.h"
#include "client/cli/text.h"

namespace vsr::client::cli {
namespace {

TEST(Histogram, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
}

TEST(Histogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100; ++v)
    h.record(v);
  EXPECT_EQ(h.percentile(0.5), 50u);
  EXPECT_EQ(h.percentile(0.9), 90u);
  EXPECT_EQ(h.percentile(0.99), 99u);
  EXPECT_EQ(h.percentile(1.0), 100u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
}

TEST(Histogram, BucketsCoverEveryValueWithBoundedError) {
  std::mt19937_64 random(1);
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t v = random() >> (random() % 64);
    const std::uint64_t clamped = std::min(v, LatencyHistogram::kMaxTrackable);
    const std::size_t b = LatencyHistogram::bucket_of(v);
    const std::uint64_t high = LatencyHistogram::bucket_high(b);
    ASSERT_GE(high, clamped) << v;
    ASSERT_LE(high - clamped, clamped / 64) << v << ": more than 1/64 above";
    if (b > 0) {
      ASSERT_LT(LatencyHistogram::bucket_high(b - 1), clamped) << v;
    }
  }
}

TEST(Histogram, PercentilesAgreeWithSortedSamples) {
  std::mt19937_64 random(2);
  std::lognormal_distribution<double> latency(10.0, 1.0);  // ~22 us median, long tail
  LatencyHistogram h;
  std::vector<std::uint64_t> samples;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(latency(random));
    samples.push_back(v);
    h.record(v);
  }
  std::sort(samples.begin(), samples.end());
  for (const double q : {0.5, 0.9, 0.99, 0.999}) {
    const auto exact = samples[static_cast<std::size_t>(q * samples.size()) - 1];
    const auto reported = h.percentile(q);
    EXPECT_GE(reported, exact) << q;
    EXPECT_LE(reported, exact + exact / 64 + 1) << q;
  }
  EXPECT_EQ(h.percentile(1.0), samples.back());
  EXPECT_EQ(h.max(), samples.back());
}

TEST(ExitCodes, DefiniteNegativeUsageAndUnknown) {
  EXPECT_EQ(exit_code_for(Status::ok), 0);
  EXPECT_EQ(exit_code_for(Status::not_found), 1);
  EXPECT_EQ(exit_code_for(Status::cas_mismatch), 1);
  EXPECT_EQ(exit_code_for(Status::too_large), 1);
  EXPECT_EQ(exit_code_for(Status::invalid_argument), 2);
  EXPECT_EQ(exit_code_for(Status::timed_out), 3);
  EXPECT_EQ(exit_code_for(Status::session_evicted), 3);
  EXPECT_EQ(exit_code_for(Status::unavailable), 3);
}

TEST(Text, PrintableShowsBytesSafely) {
  EXPECT_EQ(printable("plain"), "'plain'");
  EXPECT_EQ(printable(std::string("a\0b\n'\\\xff", 7)), "'a\\x00b\\x0a\\x27\\x5c\\xff'");
  EXPECT_EQ(printable("abcdef", 3), "'abc'... (6 bytes)");
}

TEST(Text, ReadBoundedStopsPastTheBound) {
  for (const std::size_t size : {std::size_t{0}, std::size_t{10}, std::size_t{16384},
                                 std::size_t{16385}, std::size_t{100000}}) {
    std::FILE* f = std::tmpfile();
    ASSERT_NE(f, nullptr);
    const std::string data(size, 'x');
    std::fwrite(data.data(), 1, data.size(), f);
    std::rewind(f);
    const auto read = read_bounded(f, 16384);
    std::fclose(f);
    ASSERT_TRUE(read.has_value());
    if (size <= 16384) {
      EXPECT_EQ(*read, data);
    } else {
      EXPECT_GT(read->size(), 16384u) << "too long is visible";
      EXPECT_LE(read->size(), 16384u + 4096u) << "but not read to the end";
    }
  }
}

// A fake /proc: path -> content; a path not in the map cannot be opened.
ProcReader fake_proc(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::string& path) -> std::optional<std::string> {
    const auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

TEST(SchedGroup, SameAndDifferentAutogroups) {
  const std::map<std::string, std::string> base = {
      {"/proc/sys/kernel/sched_autogroup_enabled", "1\n"},
      {"/proc/self/autogroup", "/autogroup-7 nice 0\n"},
      {"/proc/11/autogroup", "/autogroup-7 nice 0\n"},
      {"/proc/12/autogroup", "/autogroup-7 nice 0\n"},
      {"/proc/13/autogroup", "/autogroup-9 nice 0\n"}};
  EXPECT_EQ(sched_group_with({11, 12}, fake_proc(base)), SchedGroup::same);
  EXPECT_EQ(sched_group_with({11, 13}, fake_proc(base)), SchedGroup::different);
  // "/autogroup-7" and "/autogroup-70" are different groups, not a prefix match.
  auto seventy = base;
  seventy["/proc/12/autogroup"] = "/autogroup-70 nice 0\n";
  EXPECT_EQ(sched_group_with({11, 12}, fake_proc(seventy)), SchedGroup::different);
}

// The kernel prints nothing for a task in the default autogroup: a process that never
// called setsid below init (a CI runner started by pid 1, for one). That is a group, not
// an unreadable file: the clean-clone CI reported "unknown" here before.
TEST(SchedGroup, AnEmptyFileIsTheDefaultAutogroup) {
  std::map<std::string, std::string> files = {{"/proc/sys/kernel/sched_autogroup_enabled", "1\n"},
                                              {"/proc/self/autogroup", ""},
                                              {"/proc/11/autogroup", ""},
                                              {"/proc/12/autogroup", "/autogroup-3 nice 0\n"}};
  EXPECT_EQ(sched_group_with({11}, fake_proc(files)), SchedGroup::same);
  EXPECT_EQ(sched_group_with({11, 12}, fake_proc(files)), SchedGroup::different);
  files["/proc/self/autogroup"] = "/autogroup-3 nice 0\n";
  EXPECT_EQ(sched_group_with({12}, fake_proc(files)), SchedGroup::same);
  EXPECT_EQ(sched_group_with({11}, fake_proc(files)), SchedGroup::different);
}

TEST(SchedGroup, OffMissingOrNothingToCompare) {
  std::map<std::string, std::string> files = {{"/proc/sys/kernel/sched_autogroup_enabled", "0\n"},
                                              {"/proc/self/autogroup", "/autogroup-7 nice 0\n"},
                                              {"/proc/11/autogroup", "/autogroup-9 nice 0\n"}};
  EXPECT_EQ(sched_group_with({11}, fake_proc(files)), SchedGroup::autogroup_off);
  files["/proc/sys/kernel/sched_autogroup_enabled"] = "1\n";
  EXPECT_EQ(sched_group_with({11, 99}, fake_proc(files)), SchedGroup::different);
  EXPECT_EQ(sched_group_with({99}, fake_proc(files)), SchedGroup::unknown);  // no process 99
  EXPECT_EQ(sched_group_with({}, fake_proc(files)), SchedGroup::unknown);
  EXPECT_EQ(sched_group_with({0, 0}, fake_proc(files)), SchedGroup::unknown);
  files.erase("/proc/sys/kernel/sched_autogroup_enabled");  // no autogroup in this kernel
  EXPECT_EQ(sched_group_with({11}, fake_proc(files)), SchedGroup::unknown);
}

TEST(SchedGroup, ThisProcessIsInItsOwnGroup) {
  const std::optional<std::string> enabled =
      read_proc_file("/proc/sys/kernel/sched_autogroup_enabled");
  if (!enabled) GTEST_SKIP() << "no autogroup in this kernel";
  const auto self = static_cast<unsigned long long>(::getpid());
  EXPECT_EQ(sched_group_with({self}),
            (*enabled)[0] == '0' ? SchedGroup::autogroup_off : SchedGroup::same);
}

}  // namespace
}  // namespace vsr::client::cli
