// `swiftctl top`'s frame from two hand-made samples: the rates are the
// counters' differences over the time between the samples, percentiles come
// from the connections' handshake times, and plain output has no escapes.
#include "tools/swiftctl/top_frame.h"

#include <cctype>
#include <string>

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
  // What the API does not carry is said to be missing, not made up.
  EXPECT_TRUE(absl::StrContains(frame, "cold n/a  warm n/a  fork n/a"))
      << frame;
  EXPECT_TRUE(absl::StrContains(frame, "latency    p50 n/a  p99 n/a")) << frame;
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
