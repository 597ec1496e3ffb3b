// fork_latency: the data-plane cost of fork mode. RDMA WRITE post+poll
// latency by the process that opened the device, on QP pair 1, and by a
// forked child on QP pair 2 through ForkSafeSender (on rxe: the provider's
// refused write() doorbell plus the ioctl() doorbell), in the same run, on
// the same context. The run alternates: --rounds times the parent times its
// share of the iterations, then a freshly forked child times its share, so
// load from elsewhere on the (shared, emulated) machine hits both sides
// alike; the samples of all rounds are pooled per side.
//
// Every iteration stamps the iteration number into the source, posts one
// signaled WRITE, busy-polls its completion and checks status, wr_id and
// the stamp at the destination; any mismatch fails the run.
//
// Output: progress on stderr; one JSON line on stdout:
//   {"bench":"fork_latency", ..., "parent_write_p50_us":...,
//    "child_write_p50_us":..., "child_vs_parent_latency_ratio":...}
// child_vs_parent_latency_ratio is the ratio of the pooled medians;
// round_ratio_median the median over rounds of each round's ratio (a paired
// figure, robust against load that changes between rounds);
// child_ioctl_doorbells counts the child's ioctl() doorbells, warm-up
// included: one per post on rxe.
// Exit code 0 on success, 1 on any failure (reason on stderr).
//
// Run in the Soft-RoCE guest:
//   tools/rxe-vm/run -- bazel-bin/client/fork/fork_latency
#include <infiniband/verbs.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "daemon/worker/fork/child_process.h"
#include "daemon/worker/fork/fork_safe_sender.h"
#include "daemon/worker/fork/fork_support.h"
#include "daemon/worker/fork/loopback_rig.h"
#include "daemon/worker/fork/provider_doorbell.h"
#include "common/verbs/context.h"

ABSL_FLAG(std::string, device, "",
          "RDMA device (default: $RXE_DEV, else rxe0)");
ABSL_FLAG(int, gid_index, -1,
          "GID index (default: $RXE_GID_INDEX, else the RoCE v2 IPv4 GID)");
ABSL_FLAG(int, iterations, 2000, "timed WRITEs per side, over all rounds");
ABSL_FLAG(int, rounds, 20, "parent/child alternations");
ABSL_FLAG(int, warmup, 50, "untimed WRITEs per side and round");
ABSL_FLAG(int, bytes, 64, "bytes per WRITE (8 to 4096)");

namespace swift {
namespace {

constexpr size_t kDstOffset = 4096;
constexpr size_t kRegionBytes = 2 * 4096;

struct Summary {
  double p50 = 0;
  double p99 = 0;
  double mean = 0;
  double min = 0;
};

Summary Summarize(std::vector<double> samples) {
  Summary summary;
  if (samples.empty()) {
    return summary;
  }
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  summary.p50 = samples[n / 2];
  summary.p99 = samples[std::min(n - 1, n * 99 / 100)];
  double sum = 0;
  for (double sample : samples) {
    sum += sample;
  }
  summary.mean = sum / static_cast<double>(n);
  summary.min = samples.front();
  return summary;
}

std::string EncodeSamples(const std::vector<double>& samples) {
  return absl::StrJoin(samples, " ", [](std::string* out, double sample) {
    absl::StrAppendFormat(out, "%.3f", sample);
  });
}

absl::Status DecodeSamples(const std::string& text,
                           std::vector<double>* samples) {
  for (absl::string_view field : absl::StrSplit(text, ' ')) {
    double sample = 0;
    if (!absl::SimpleAtod(field, &sample)) {
      return absl::InternalError(
          absl::StrCat("malformed sample '", field, "' from the child"));
    }
    samples->push_back(sample);
  }
  return absl::OkStatus();
}

// Times `warmup` + `iterations` WRITEs of `bytes` from the start of `rig`'s
// region to kDstOffset on QP a through `sender`; returns the timed
// post-to-completion latencies in microseconds.
absl::StatusOr<std::vector<double>> TimeWrites(const LoopbackRig& rig,
                                               ForkSafeSender& sender,
                                               int warmup, int iterations,
                                               uint32_t bytes) {
  using Clock = std::chrono::steady_clock;
  std::vector<double> samples;
  samples.reserve(static_cast<size_t>(iterations));
  uint8_t* src = rig.data();
  uint8_t* dst = rig.data() + kDstOffset;
  ibv_cq* cq = rig.cq_a->get();
  for (int i = 0; i < warmup + iterations; ++i) {
    const uint64_t stamp = 0x5eed000000000000ull + static_cast<uint64_t>(i);
    std::memcpy(src, &stamp, sizeof(stamp));
    ibv_sge sge = rig.Sge(0, bytes);
    ibv_send_wr wr = {};
    wr.wr_id = stamp;
    wr.sg_list = &sge;
    wr.num_sge = 1;
    wr.opcode = IBV_WR_RDMA_WRITE;
    wr.send_flags = IBV_SEND_SIGNALED;
    wr.wr.rdma.remote_addr = rig.RemoteAddr(kDstOffset);
    wr.wr.rdma.rkey = rig.mr->rkey();

    const Clock::time_point start = Clock::now();
    if (absl::Status posted = sender.PostSend(wr); !posted.ok()) {
      return posted;
    }
    ibv_wc wc = {};
    int polled = 0;
    for (uint64_t spins = 0; (polled = ibv_poll_cq(cq, 1, &wc)) == 0; ++spins) {
      if ((spins & 0xfffff) == 0xfffff &&
          Clock::now() - start > std::chrono::seconds(5)) {
        return absl::DeadlineExceededError(
            absl::StrCat("no completion for WRITE ", i, " within 5 s"));
      }
    }
    const Clock::time_point end = Clock::now();
    if (polled < 0 || wc.status != IBV_WC_SUCCESS || wc.wr_id != stamp) {
      return absl::InternalError(absl::StrFormat(
          "WRITE %d: poll=%d status=%s wr_id=0x%x (expected 0x%x)", i, polled,
          ibv_wc_status_str(wc.status), wc.wr_id, stamp));
    }
    uint64_t landed = 0;
    std::memcpy(&landed, dst, sizeof(landed));
    if (landed != stamp) {
      return absl::InternalError(absl::StrFormat(
          "WRITE %d completed but the destination holds 0x%x", i, landed));
    }
    if (i >= warmup) {
      samples.push_back(
          std::chrono::duration<double, std::micro>(end - start).count());
    }
  }
  return samples;
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "fork_latency: %s\n", status.ToString().c_str());
  return 1;
}

int Run() {
  std::string device = absl::GetFlag(FLAGS_device);
  if (device.empty()) {
    const char* env = std::getenv("RXE_DEV");
    device = env != nullptr && *env != '\0' ? env : "rxe0";
  }
  std::optional<uint32_t> gid_index;
  if (absl::GetFlag(FLAGS_gid_index) >= 0) {
    gid_index = static_cast<uint32_t>(absl::GetFlag(FLAGS_gid_index));
  } else if (const char* env = std::getenv("RXE_GID_INDEX"); env != nullptr) {
    uint32_t index = 0;
    if (absl::SimpleAtoi(env, &index)) {
      gid_index = index;
    }
  }
  const int iterations = absl::GetFlag(FLAGS_iterations);
  const int rounds = absl::GetFlag(FLAGS_rounds);
  const int warmup = absl::GetFlag(FLAGS_warmup);
  const int bytes = absl::GetFlag(FLAGS_bytes);
  if (rounds < 1 || iterations < rounds || warmup < 0 || bytes < 8 ||
      bytes > 4096) {
    return Fail(absl::InvalidArgumentError(
        "need --rounds >= 1, --iterations >= --rounds, --warmup >= 0, "
        "8 <= --bytes <= 4096"));
  }
  if (absl::Status kernel = CheckCopyOnForkKernel(); !kernel.ok()) {
    return Fail(kernel);
  }

  absl::StatusOr<std::shared_ptr<verbs::Context>> context =
      verbs::Context::OpenByName(device);
  if (!context.ok()) {
    return Fail(context.status());
  }
  absl::StatusOr<std::unique_ptr<LoopbackRig>> pair1 =
      MakeLoopbackRig(*context, kRegionBytes, gid_index);
  if (!pair1.ok()) {
    return Fail(pair1.status());
  }
  absl::StatusOr<std::unique_ptr<LoopbackRig>> pair2 =
      MakeLoopbackRig(*context, kRegionBytes, gid_index);
  if (!pair2.ok()) {
    return Fail(pair2.status());
  }
  absl::StatusOr<ProviderDoorbell> doorbell = DetectDoorbell((*context)->get());
  if (!doorbell.ok()) {
    return Fail(doorbell.status());
  }
  std::fprintf(stderr, "fork_latency: %s; %d x %d B WRITE per side\n",
               doorbell->Describe().c_str(), iterations, bytes);

  absl::StatusOr<ForkSafeSender> parent_sender =
      ForkSafeSender::Create((*pair1)->qp_a->get(), *doorbell);
  if (!parent_sender.ok()) {
    return Fail(parent_sender.status());
  }
  std::vector<double> parent_samples;
  std::vector<double> child_samples;
  uint64_t child_doorbells = 0;
  std::vector<double> round_ratios;  // Child p50 / parent p50, per round.
  const LoopbackRig& child_rig = **pair2;
  for (int round = 0; round < rounds; ++round) {
    const int share =
        iterations / rounds + (round < iterations % rounds ? 1 : 0);
    absl::StatusOr<std::vector<double>> parent = TimeWrites(
        **pair1, *parent_sender, warmup, share, static_cast<uint32_t>(bytes));
    if (!parent.ok()) {
      return Fail(parent.status());
    }
    parent_samples.insert(parent_samples.end(), parent->begin(), parent->end());
    // The child drives pair 2, which it inherited; the parent waits.
    absl::StatusOr<std::string> child = RunInChild(
        [&]() -> absl::StatusOr<std::string> {
          absl::StatusOr<ForkSafeSender> sender =
              ForkSafeSender::Create(child_rig.qp_a->get(), *doorbell);
          if (!sender.ok()) {
            return sender.status();
          }
          absl::StatusOr<std::vector<double>> samples = TimeWrites(
              child_rig, *sender, warmup, share, static_cast<uint32_t>(bytes));
          if (!samples.ok()) {
            return samples.status();
          }
          return absl::StrCat(sender->ioctl_doorbells(), " ",
                              EncodeSamples(*samples));
        },
        absl::Minutes(5));
    if (!child.ok()) {
      return Fail(child.status());
    }
    const size_t space = child->find(' ');
    uint64_t doorbells = 0;
    if (space == std::string::npos ||
        !absl::SimpleAtoi(child->substr(0, space), &doorbells)) {
      return Fail(absl::InternalError("malformed child report"));
    }
    child_doorbells += doorbells;
    std::vector<double> child_round;
    if (absl::Status decoded =
            DecodeSamples(child->substr(space + 1), &child_round);
        !decoded.ok()) {
      return Fail(decoded);
    }
    child_samples.insert(child_samples.end(), child_round.begin(),
                         child_round.end());
    const double parent_p50 = Summarize(*parent).p50;
    const double child_p50 = Summarize(child_round).p50;
    round_ratios.push_back(child_p50 / parent_p50);
    std::fprintf(stderr,
                 "fork_latency: round %d: parent p50 %.2f us, child p50 %.2f "
                 "us (%d WRITEs each)\n",
                 round + 1, parent_p50, child_p50, share);
  }
  const Summary parent_summary = Summarize(parent_samples);
  const Summary child_summary = Summarize(child_samples);

  std::printf(
      "{\"bench\":\"fork_latency\",\"device\":\"%s\",\"doorbell\":\"%s\","
      "\"iterations\":%d,\"rounds\":%d,\"bytes\":%d,"
      "\"parent_write_p50_us\":%.2f,\"parent_write_p99_us\":%.2f,"
      "\"parent_write_mean_us\":%.2f,\"parent_write_min_us\":%.2f,"
      "\"child_write_p50_us\":%.2f,\"child_write_p99_us\":%.2f,"
      "\"child_write_mean_us\":%.2f,\"child_write_min_us\":%.2f,"
      "\"child_vs_parent_latency_ratio\":%.3f,"
      "\"child_minus_parent_p50_us\":%.2f,"
      "\"round_ratio_median\":%.3f,"
      "\"child_ioctl_doorbells\":%llu}\n",
      device.c_str(), std::string(DoorbellKindName(doorbell->kind)).c_str(),
      iterations, rounds, bytes, parent_summary.p50, parent_summary.p99,
      parent_summary.mean, parent_summary.min, child_summary.p50,
      child_summary.p99, child_summary.mean, child_summary.min,
      child_summary.p50 / parent_summary.p50,
      child_summary.p50 - parent_summary.p50, Summarize(round_ratios).p50,
      static_cast<unsigned long long>(child_doorbells));
  return 0;
}

}  // namespace
}  // namespace swift

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return swift::Run();
}
