#include "daemon/functions/latency_histogram.h"

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(LatencyHistogramTest, EachLatencyLandsInTheFirstBucketWhoseBoundHoldsIt) {
  LatencyHistogram histogram;
  histogram.Add(absl::Microseconds(50));  // At a bound: that bucket.
  histogram.Add(absl::Microseconds(51));  // Just past it: the next.
  histogram.Add(absl::Microseconds(0));
  histogram.Add(absl::Microseconds(-5));  // Counts as 0.
  histogram.Add(absl::Milliseconds(3));   // (2500, 5000]
  histogram.Add(absl::Seconds(61));       // +Inf
  EXPECT_EQ(histogram.count(), 6u);
  EXPECT_EQ(histogram.sum_us(), 50u + 51u + 3000u + 61000000u);
  EXPECT_EQ(histogram.bucket(0), 3u);
  EXPECT_EQ(histogram.bucket(1), 1u);
  EXPECT_EQ(histogram.bucket(6), 1u);
  EXPECT_EQ(histogram.bucket(LatencyHistogram::kBuckets - 1), 1u);
}

TEST(LatencyHistogramTest, ProtoCarriesBoundsPerBucketCountsSumAndCount) {
  LatencyHistogram histogram;
  histogram.Add(absl::Microseconds(700));
  histogram.Add(absl::Microseconds(900));
  v1::LatencyHistogram proto;
  histogram.ToProto(&proto);
  ASSERT_EQ(proto.upper_bounds_us_size(),
            static_cast<int>(LatencyHistogram::kUpperBoundsUs.size()));
  ASSERT_EQ(proto.counts_size(), static_cast<int>(LatencyHistogram::kBuckets));
  EXPECT_EQ(proto.upper_bounds_us(0), 50u);
  EXPECT_EQ(proto.upper_bounds_us(proto.upper_bounds_us_size() - 1), 60000000u);
  for (int i = 1; i < proto.upper_bounds_us_size(); ++i) {
    EXPECT_LT(proto.upper_bounds_us(i - 1), proto.upper_bounds_us(i));
  }
  // (500, 1000] is the fifth bucket.
  EXPECT_EQ(proto.upper_bounds_us(4), 1000u);
  EXPECT_EQ(proto.counts(4), 2u);
  EXPECT_EQ(proto.sum_us(), 1600u);
  EXPECT_EQ(proto.count(), 2u);
}

}  // namespace
}  // namespace swift
