// `swiftctl top`'s frame from two hand-made samples: the rates are the
// counters' differences over the time between the samples, latency
// percentiles come from the histograms' differences (and the open
// connections' handshake times), and plain output has no escapes.
#include "tools/swiftctl/top_frame.h"

#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace swift::swiftctl {
namespace {

// A sample of a swiftd with one service, one function and two clients.
TopSample Sample(absl::Time taken, uint64_t connected, uint64_t failed,
                 uint64_t invocations) {
  TopSample sample;
  sample.taken = taken;
  sample.status.set_version("0.1.0");
  sample.status.set_pid(4242);
  sample.status.set_incarnation(77);
  sample.status.set_uptime_us(125000000);
  sample.status.set_clients_count(3);
  v1::ServiceInfo* service = sample.services.add_services();
  service->set_name("kv");
  service->set_owner("kvd (99)");
  service->set_pooled_qps(8);
  service->set_connections(2);
  service->set_accepted(connected);
  sample.connections.set_connected_total(connected);
  sample.connections.set_closed_total(1);
  (*sample.connections.mutable_failed_by_reason())["NOT_FOUND"] = failed;
  v1::AdmissionInfo* admission = sample.connections.mutable_admission();
  admission->set_in_flight(5);
  admission->set_queued(6);
  admission->set_total_limit(64);
  admission->set_per_peer_limit(16);
  v1::WorkerInfo* worker = sample.workers.add_workers();
  worker->set_function("resize");
  worker->set_state("ready");
  worker->set_invocations(invocations);
  worker->set_instances(2);
  worker->set_max_instances(8);
  for (int64_t pid : {100, 100, 200}) {
    sample.clients.add_clients()->set_pid(pid);
  }
  return sample;
}

TEST(TopFrameTest, RatesAreCounterDifferencesOverTheInterval) {
  const absl::Time start = absl::FromUnixSeconds(1700000000);
  const TopSample before = Sample(start, 100, 4, 1000);
  // 2 s later: 30 more connects, 2 more failures, 50 more invocations.
  const TopSample after = Sample(start + absl::Seconds(2), 130, 6, 1050);
  const std::string frame = FormatTopFrame(before, after, TopFrameOptions());

  EXPECT_TRUE(absl::StrContains(frame, "connects     15.0/s  failed 1.0/s"))
      << frame;
  EXPECT_TRUE(absl::StrContains(frame, "(total 130 ok, 6 failed, 1 closed)"))
      << frame;
  EXPECT_TRUE(absl::StrContains(frame, "invocations  25.0/s  failed 0.0/s"))
      << frame;
  EXPECT_TRUE(absl::StrContains(frame, "(rates over 2.0s)")) << frame;
  EXPECT_TRUE(absl::StrContains(frame, "5 in flight, 6 queued")) << frame;
  EXPECT_TRUE(absl::StrContains(frame, "timed out 0.0/s  queue full 0.0/s"))
      << frame;
  // A frame of a small swiftd fits 80 columns.
  for (absl::string_view line : absl::StrSplit(frame, '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }
  EXPECT_TRUE(absl::StrContains(frame, "1 services, 8 ready QPs")) << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, "3 attached; 3 fast path connections from 2 processes"))
      << frame;
  // The per service and per function rows: 15 accepts/s, 25 invocations/s.
  EXPECT_TRUE(absl::StrContains(frame,
                                "kv       kvd (99)  8          2"
                                "            15.0       0.0"))
      << frame;
  EXPECT_TRUE(absl::StrContains(frame, "resize    ready  25.0")) << frame;
  // What an older swiftd's answer does not carry (no by_mode, no
  // connect_latency) is said to be missing, not made up.
  EXPECT_TRUE(absl::StrContains(frame, "\n  cold       n/a\n")) << frame;
  EXPECT_TRUE(absl::StrContains(frame, "\n  warm       n/a\n")) << frame;
  EXPECT_TRUE(absl::StrContains(frame, "\n  fork       n/a  (by spares"))
      << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, "  latency    n/a (not in this swiftd's answer)"))
      << frame;
}

// A histogram with bounds 100, 250, 500 and 1000 us (and +Inf) and these
// per-bucket counts.
v1::LatencyHistogram Histogram(std::vector<uint64_t> counts) {
  v1::LatencyHistogram histogram;
  for (uint64_t bound : {100, 250, 500, 1000}) {
    histogram.add_upper_bounds_us(bound);
  }
  counts.resize(5);
  for (uint64_t count : counts) {
    histogram.add_counts(count);
    histogram.set_count(histogram.count() + count);
  }
  return histogram;
}

// `worker`'s stats of `mode`, with `invocations` and `latency`.
void SetMode(v1::WorkerInfo* worker, v1::InvokeRequest::Mode mode,
             uint64_t invocations, uint64_t failures,
             const v1::LatencyHistogram& latency) {
  v1::InvocationModeStats* stats = worker->add_by_mode();
  stats->set_mode(mode);
  stats->set_invocations(invocations);
  stats->set_failures(failures);
  *stats->mutable_latency() = latency;
}

TEST(TopFrameTest, QuantilesInterpolateInsideTheBucketAsPrometheusDoes) {
  // 10 in (100, 250]: the median is halfway, the 99th near its top.
  EXPECT_DOUBLE_EQ(HistogramQuantile(Histogram({0, 10}), 0.5), 175);
  EXPECT_DOUBLE_EQ(HistogramQuantile(Histogram({0, 10}), 0.99), 248.5);
  // The first bucket starts at 0.
  EXPECT_DOUBLE_EQ(HistogramQuantile(Histogram({4}), 0.5), 50);
  // 50 fast, 50 slow: the median at the top of the fast bucket (the first
  // whose cumulative count reaches the rank), p99 among the slow ones.
  EXPECT_DOUBLE_EQ(HistogramQuantile(Histogram({50, 0, 0, 50}), 0.5), 100);
  EXPECT_DOUBLE_EQ(HistogramQuantile(Histogram({50, 0, 0, 50}), 0.99), 990);
  // Past the last bound nothing is known: the last bound.
  EXPECT_DOUBLE_EQ(HistogramQuantile(Histogram({1, 0, 0, 0, 9}), 0.99), 1000);
  // Nothing counted, or no +Inf bucket: none.
  EXPECT_EQ(HistogramQuantile(Histogram({}), 0.5), -1);
  v1::LatencyHistogram malformed = Histogram({3});
  malformed.mutable_counts()->RemoveLast();
  EXPECT_EQ(HistogramQuantile(malformed, 0.5), -1);
  EXPECT_EQ(HistogramQuantile(v1::LatencyHistogram(), 0.5), -1);
}

TEST(TopFrameTest, HistogramDeltaIsPerBucketUnlessTheHistogramStartedOver) {
  const v1::LatencyHistogram delta =
      HistogramDelta(Histogram({1, 2, 3}), Histogram({1, 5, 4, 1}));
  ASSERT_EQ(delta.counts_size(), 5);
  EXPECT_EQ(delta.counts(0), 0u);
  EXPECT_EQ(delta.counts(1), 3u);
  EXPECT_EQ(delta.counts(2), 1u);
  EXPECT_EQ(delta.counts(3), 1u);
  EXPECT_EQ(delta.count(), 5u);
  // A bucket that shrank: counted from 0 again (registered again).
  const v1::LatencyHistogram again =
      HistogramDelta(Histogram({7, 2}), Histogram({1, 3}));
  EXPECT_EQ(again.counts(0), 1u);
  EXPECT_EQ(again.counts(1), 3u);
  // Nothing before (a new function): all of it.
  EXPECT_EQ(HistogramDelta(v1::LatencyHistogram(), Histogram({2})).counts(0),
            2u);
}

TEST(TopFrameTest, InvocationsByModeAndTheirLatenciesOverTheInterval) {
  const absl::Time start = absl::FromUnixSeconds(1700000000);
  TopSample before = Sample(start, 0, 0, 30);
  TopSample after = Sample(start + absl::Seconds(2), 0, 0, 70);
  v1::WorkerInfo* then = before.workers.mutable_workers(0);
  SetMode(then, v1::InvokeRequest::COLD, 0, 0, Histogram({}));
  SetMode(then, v1::InvokeRequest::WARM, 10, 0, Histogram({0, 0, 10}));
  SetMode(then, v1::InvokeRequest::FORK, 20, 1, Histogram({0, 0, 0, 20}));
  v1::WorkerInfo* now = after.workers.mutable_workers(0);
  SetMode(now, v1::InvokeRequest::COLD, 0, 0, Histogram({}));
  // 2 s: 20 more WARM ones, in (100, 250]; 20 more FORK ones, one failed,
  // in (500, 1000].
  SetMode(now, v1::InvokeRequest::WARM, 30, 0, Histogram({0, 20, 10}));
  SetMode(now, v1::InvokeRequest::FORK, 40, 2, Histogram({0, 0, 0, 40}));
  now->set_spare_hits(8);
  const std::string frame = FormatTopFrame(before, after, TopFrameOptions());
  EXPECT_TRUE(absl::StrContains(
      frame, "\n  cold       0.0/s  failed 0.0/s  (total 0, 0 failed)\n"))
      << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, "\n  warm       10.0/s  failed 0.0/s  (total 30, 0 failed)\n"))
      << frame;
  EXPECT_TRUE(absl::StrContains(frame,
                                "\n  fork       10.0/s  failed 0.5/s  (total "
                                "40, 2 failed; by spares 4.0/s)\n"))
      << frame;
  // The interval's 40: the median at the top of the WARM ones' bucket
  // (cumulative 20 of 40), p99 high in the FORK ones'.
  EXPECT_TRUE(absl::StrContains(
      frame,
      "  latency    p50 250us  p99 990us  in the last 2.0s (40 invocations)"))
      << frame;
  // All 70: 20 in (100, 250], 10 in (250, 500], 40 in (500, 1000].
  EXPECT_TRUE(absl::StrContains(
      frame, "             p50 563us  p99 991us  since start (70 invocations)"))
      << frame;
  // The function's own row: its p99 over the interval.
  EXPECT_TRUE(absl::StrContains(frame,
                                "resize    ready  20.0           0.0  "
                                "     990us"))
      << frame;
  for (absl::string_view line : absl::StrSplit(frame, '\n')) {
    EXPECT_LE(line.size(), 80u) << line;
  }

  // Nothing in the interval: no percentiles of it, the totals' still.
  const std::string idle = FormatTopFrame(after, after, TopFrameOptions());
  const std::string later = FormatTopFrame(
      after,
      [&] {
        TopSample same = after;
        same.taken += absl::Seconds(1);
        return same;
      }(),
      TopFrameOptions());
  EXPECT_TRUE(absl::StrContains(
      later, "  latency    p50 n/a  p99 n/a  in the last 1.0s (none)"))
      << later;
  EXPECT_TRUE(absl::StrContains(
      later, "             p50 563us  p99 991us  since start (70 invocations)"))
      << later;
  EXPECT_TRUE(absl::StrContains(idle, "no time passed")) << idle;
}

TEST(TopFrameTest, ConnectLatenciesComeFromTheHistogramOfRecentConnects) {
  const absl::Time start = absl::FromUnixSeconds(1700000000);
  TopSample before = Sample(start, 10, 0, 0);
  TopSample after = Sample(start + absl::Seconds(1), 20, 0, 0);
  *before.connections.mutable_connect_latency() = Histogram({0, 0, 10});
  *after.connections.mutable_connect_latency() = Histogram({0, 0, 10, 10});
  const std::string frame = FormatTopFrame(before, after, TopFrameOptions());
  EXPECT_TRUE(absl::StrContains(
      frame, "connects     10.0/s  failed 0.0/s  (total 20 ok"))
      << frame;
  EXPECT_TRUE(absl::StrContains(
      frame,
      "  latency    p50 750us  p99 995us  in the last 1.0s (10 "
      "connects)"))
      << frame;
  EXPECT_TRUE(absl::StrContains(
      frame, "             p50 500us  p99 990us  since start (20 connects)"))
      << frame;
}

TEST(TopFrameTest, HandshakePercentilesComeFromTheOpenConnections) {
  const absl::Time start = absl::FromUnixSeconds(1700000000);
  const TopSample before = Sample(start, 0, 0, 0);
  TopSample after = Sample(start + absl::Seconds(1), 0, 0, 0);
  for (uint64_t us = 1; us <= 100; ++us) {
    after.connections.add_connections()->set_handshake_us(us * 100);
  }
  const std::string frame = FormatTopFrame(before, after, TopFrameOptions());
  EXPECT_TRUE(absl::StrContains(
      frame, "handshake  p50 5.0ms  p99 9.9ms  (of the 100 open"))
      << frame;

  const std::string none = FormatTopFrame(before, before, TopFrameOptions());
  EXPECT_TRUE(absl::StrContains(none, "handshake  p50 n/a  p99 n/a")) << none;
}

TEST(TopFrameTest, NoRatesAcrossARestart) {
  const absl::Time start = absl::FromUnixSeconds(1700000000);
  const TopSample before = Sample(start, 100, 0, 10);
  TopSample after = Sample(start + absl::Seconds(1), 3, 0, 1);
  after.status.set_incarnation(78);
  const std::string frame = FormatTopFrame(before, after, TopFrameOptions());
  EXPECT_TRUE(absl::StrContains(frame, "swiftd restarted")) << frame;
  EXPECT_TRUE(absl::StrContains(frame, "connects     n/a  failed n/a"))
      << frame;
}

TEST(TopFrameTest, PlainOutputHasNoEscapesAndTerminalOutputRedraws) {
  const absl::Time start = absl::FromUnixSeconds(1700000000);
  const TopSample before = Sample(start, 1, 0, 1);
  const TopSample after = Sample(start + absl::Seconds(1), 2, 0, 2);
  const std::string plain = FormatTopFrame(before, after, TopFrameOptions());
  EXPECT_EQ(plain.find('\x1b'), std::string::npos) << plain;
  EXPECT_EQ(plain.back(), '\n');

  TopFrameOptions terminal;
  terminal.terminal = true;
  terminal.width = 40;
  terminal.height = 24;
  const std::string drawn = FormatTopFrame(before, after, terminal);
  EXPECT_TRUE(absl::StartsWith(drawn, "\x1b[H")) << drawn;
  EXPECT_TRUE(absl::EndsWith(drawn, "\x1b[J")) << drawn;
  // Every line fits the 40 columns once the escapes are taken out.
  std::string line;
  bool escape = false;
  for (char c : drawn) {
    if (c == '\x1b') {
      escape = true;
    } else if (escape) {
      escape = !std::isalpha(static_cast<unsigned char>(c));
    } else if (c == '\n') {
      EXPECT_LE(line.size(), 40u) << line;
      line.clear();
    } else {
      line += c;
    }
  }
}

TEST(TopFrameTest, ATerminalTooShortForTheTablesSaysWhatIsHidden) {
  const absl::Time start = absl::FromUnixSeconds(1700000000);
  const TopSample before = Sample(start, 1, 0, 1);
  TopSample after = Sample(start + absl::Seconds(1), 2, 0, 2);
  for (int i = 0; i < 30; ++i) {
    after.workers.add_workers()->set_function("f" + std::to_string(i));
  }
  TopFrameOptions terminal;
  terminal.terminal = true;
  terminal.height = 24;
  const std::string drawn = FormatTopFrame(before, after, terminal);
  int lines = 0;
  for (char c : drawn) {
    lines += c == '\n';
  }
  EXPECT_LE(lines, 24) << drawn;
  EXPECT_TRUE(absl::StrContains(drawn, "more functions")) << drawn;
  // Plain output is complete.
  const std::string plain = FormatTopFrame(before, after, TopFrameOptions());
  EXPECT_TRUE(absl::StrContains(plain, "f29")) << plain;
}

TEST(TopFrameTest, PercentilesAreNearestRank) {
  EXPECT_EQ(Percentile({}, 50), -1);
  EXPECT_EQ(Percentile({7}, 99), 7);
  EXPECT_EQ(Percentile({4, 1, 3, 2}, 50), 2);
  EXPECT_EQ(Percentile({4, 1, 3, 2}, 99), 4);
  EXPECT_EQ(FormatLatency(812), "812us");
  EXPECT_EQ(FormatLatency(1250), "1.2ms");
  EXPECT_EQ(FormatLatency(3400000), "3.40s");
}

}  // namespace
}  // namespace swift::swiftctl
