#include "client/cli/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace vsr::client::cli {

std::size_t LatencyHistogram::bucket_of(std::uint64_t value) {
  value = std::min(value, kMaxTrackable);
  if (value < kSub) return static_cast<std::size_t>(value);
  const unsigned msb = 63 - static_cast<unsigned>(std::countl_zero(value));  // >= kSubBits
  const unsigned shift = msb - kSubBits + 1;                                 // >= 1
  const std::uint64_t top = value >> shift;                                  // [kHalf, kSub)
  return static_cast<std::size_t>(kSub + (shift - 1) * kHalf + (top - kHalf));
}

std::uint64_t LatencyHistogram::bucket_high(std::size_t bucket) {
  if (bucket < kSub) return bucket;
  const std::uint64_t shift = (bucket - kSub) / kHalf + 1;
  const std::uint64_t top = (bucket - kSub) % kHalf + kHalf;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::record(std::uint64_t value) {
  ++buckets_[bucket_of(value)];
  ++count_;
  max_ = std::max(max_, value);
  min_ = std::min(min_, value);
}

std::uint64_t LatencyHistogram::percentile(double quantile) const {
  if (count_ == 0) return 0;
  quantile = std::clamp(quantile, 0.0, 1.0);
  const auto wanted = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::ceil(quantile * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= wanted) return std::min(bucket_high(b), max_);
  }
  return max_;
}

}  // namespace vsr::client::cli
