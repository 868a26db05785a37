// vsr-client's helpers: the latency histogram, exit codes, quoting, bounded stdin reads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "client/cli/exit_codes.h"
#include "client/cli/histogram.h"
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

}  // namespace
}  // namespace vsr::client::cli
