// A latency histogram of fixed size (log-linear buckets, as HdrHistogram does): values
// below 128 are exact, larger ones fall into 64 buckets per power of two, so a reported
// percentile is at most 1/64 (1.6%) above the true one. Memory is fixed whatever the run
// length; values past kMaxTrackable are counted in the top bucket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace vsr::client::cli {

class LatencyHistogram {
 public:
  static constexpr std::uint64_t kMaxTrackable = (std::uint64_t{1} << 40) - 1;  // ~18 min in ns

  void record(std::uint64_t value);
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  // The smallest bucket bound at or below which at least `quantile` (0..1] of the values
  // lie, never above max(); 0 when empty.
  std::uint64_t percentile(double quantile) const;

  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_high(std::size_t bucket);

 private:
  static constexpr unsigned kSubBits = 7;
  static constexpr std::uint64_t kSub = std::uint64_t{1} << kSubBits;  // exact below this
  static constexpr std::uint64_t kHalf = kSub / 2;                     // buckets per power of 2
  static constexpr std::size_t kBuckets = kSub + (40 - kSubBits) * kHalf;

  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = UINT64_MAX;
};

}  // namespace vsr::client::cli
