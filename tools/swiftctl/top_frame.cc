// `swiftctl top`'s frame; see top_frame.h.
#include "tools/swiftctl/top_frame.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tools/swiftctl/format.h"

namespace swift::swiftctl {
namespace {

// ANSI (ECMA-48) controls: every terminal emulator in use knows them, so
// no terminfo lookup is needed.
constexpr char kHome[] = "\x1b[H";
constexpr char kEraseToEndOfLine[] = "\x1b[K";
constexpr char kEraseBelow[] = "\x1b[J";
constexpr char kBold[] = "\x1b[1m";
constexpr char kReverse[] = "\x1b[7m";
constexpr char kNormal[] = "\x1b[0m";

enum class Style { kPlain, kTitle, kTableHeader };

struct Line {
  std::string text;
  Style style = Style::kPlain;
};

// Counters only grow while swiftd runs; a smaller value means the object
// was recreated (a function registered again), whose count started at 0.
uint64_t Delta(uint64_t before, uint64_t after) {
  return after >= before ? after - before : after;
}

// Rates over one interval; "n/a" when there is no interval to divide by
// (swiftd restarted in between, or the clock did not advance).
class Rates {
 public:
  Rates(const TopSample& before, const TopSample& after)
      : seconds_(absl::ToDoubleSeconds(after.taken - before.taken)),
        comparable_(before.status.incarnation() == after.status.incarnation() &&
                    before.status.pid() == after.status.pid() && seconds_ > 0) {
  }

  bool comparable() const { return comparable_; }
  double seconds() const { return seconds_; }

  // "12.0/s"
  std::string PerSecond(uint64_t before, uint64_t after) const {
    return comparable_ ? absl::StrCat(Number(before, after), "/s") : "n/a";
  }
  // "12.0", for table cells whose header says "/S".
  std::string Number(uint64_t before, uint64_t after) const {
    return NumberOf(Delta(before, after));
  }
  // As PerSecond() and Number(), of a difference already taken.
  std::string PerSecondOf(uint64_t delta) const {
    return comparable_ ? absl::StrCat(NumberOf(delta), "/s") : "n/a";
  }
  std::string NumberOf(uint64_t delta) const {
    if (!comparable_) {
      return "n/a";
    }
    return absl::StrFormat("%.1f", static_cast<double>(delta) / seconds_);
  }

 private:
  double seconds_;
  bool comparable_;
};

uint64_t FailedConnects(const v1::ListConnectionsResponse& connections) {
  uint64_t failed = 0;
  for (const auto& [reason, count] : connections.failed_by_reason()) {
    failed += count;
  }
  return failed;
}

struct FunctionTotals {
  uint64_t invocations = 0;
  uint64_t failures = 0;
  uint64_t spare_hits = 0;
};

FunctionTotals Totals(const v1::ListWorkersResponse& workers) {
  FunctionTotals totals;
  for (const v1::WorkerInfo& worker : workers.workers()) {
    totals.invocations += worker.invocations();
    totals.failures += worker.failures();
    totals.spare_hits += worker.spare_hits();
  }
  return totals;
}

// "p50 812us  p99 1.2ms", or "p50 n/a  p99 n/a" without samples.
std::string Percentiles(const std::vector<uint64_t>& samples) {
  if (samples.empty()) {
    return "p50 n/a  p99 n/a";
  }
  return absl::StrCat("p50 ", FormatLatency(Percentile(samples, 50)), "  p99 ",
                      FormatLatency(Percentile(samples, 99)));
}

// As Percentiles(), from a histogram's buckets.
std::string Percentiles(const v1::LatencyHistogram& histogram) {
  const double p50 = HistogramQuantile(histogram, 0.5);
  const double p99 = HistogramQuantile(histogram, 0.99);
  if (p50 < 0 || p99 < 0) {
    return "p50 n/a  p99 n/a";
  }
  return absl::StrCat("p50 ", FormatLatency(std::llround(p50)), "  p99 ",
                      FormatLatency(std::llround(p99)));
}

uint64_t BucketTotal(const v1::LatencyHistogram& histogram) {
  uint64_t total = 0;
  for (uint64_t count : histogram.counts()) {
    total += count;
  }
  return total;
}

// Adds `histogram` into `*sum` (empty: takes its bounds). Histograms with
// other bounds than the sum's are left out (one swiftd serves one set).
void AddInto(const v1::LatencyHistogram& histogram, v1::LatencyHistogram* sum) {
  if (sum->counts_size() == 0) {
    *sum = histogram;
    return;
  }
  if (histogram.counts_size() != sum->counts_size() ||
      histogram.upper_bounds_us_size() != sum->upper_bounds_us_size()) {
    return;
  }
  for (int i = 0; i < histogram.counts_size(); ++i) {
    sum->set_counts(i, sum->counts(i) + histogram.counts(i));
  }
  sum->set_sum_us(sum->sum_us() + histogram.sum_us());
  sum->set_count(sum->count() + histogram.count());
}

// A table as lines, its header highlighted; at most `max_rows` rows (-1:
// all), the rest summed up in a last line naming `what`.
void AppendTable(const std::vector<std::string>& header,
                 std::vector<std::vector<std::string>> rows, int max_rows,
                 const std::string& what, std::vector<Line>* lines) {
  size_t hidden = 0;
  if (max_rows >= 0 && rows.size() > static_cast<size_t>(max_rows)) {
    // One row gives way to the line that says how many are hidden.
    const size_t kept = max_rows > 0 ? static_cast<size_t>(max_rows - 1) : 0;
    hidden = rows.size() - kept;
    rows.resize(kept);
  }
  bool first = true;
  for (absl::string_view text :
       absl::StrSplit(FormatTable(header, rows), '\n', absl::SkipEmpty())) {
    lines->push_back(
        {std::string(text), first ? Style::kTableHeader : Style::kPlain});
    first = false;
  }
  if (hidden > 0) {
    lines->push_back({absl::StrCat("... ", hidden, " more ", what)});
  }
}

// Two lines: the percentiles of the interval's `what`, and of all of them.
// `reported`: whether swiftd's answer carried the histograms at all.
void AppendLatencies(const v1::LatencyHistogram& interval,
                     const v1::LatencyHistogram& all, bool reported,
                     const Rates& rates, const std::string& what,
                     std::vector<Line>* lines) {
  if (!reported) {
    lines->push_back({"  latency    n/a (not in this swiftd's answer)"});
    return;
  }
  const uint64_t recent = BucketTotal(interval);
  std::string last = absl::StrFormat("in the last %.1fs", rates.seconds());
  lines->push_back({absl::StrCat(
      "  latency    ",
      rates.comparable() ? Percentiles(interval) : "p50 n/a  p99 n/a", "  ",
      last,
      !rates.comparable() ? ""
      : recent == 0       ? " (none)"
                          : absl::StrCat(" (", recent, " ", what, ")"))});
  lines->push_back(
      {absl::StrCat("             ", Percentiles(all), "  since start (",
                    BucketTotal(all), " ", what, ")")});
}

// Connects: every attempt ends connected or failed (by reason); latencies
// are those of the connects that succeeded, and, apart, the handshake
// times of the connections still open.
void AppendConnects(const TopSample& before, const TopSample& after,
                    const Rates& rates, std::vector<Line>* lines) {
  const v1::ListConnectionsResponse& connections = after.connections;
  const uint64_t failed = FailedConnects(connections);
  lines->push_back({absl::StrCat(
      "connects     ",
      rates.PerSecond(before.connections.connected_total(),
                      connections.connected_total()),
      "  failed ", rates.PerSecond(FailedConnects(before.connections), failed),
      "  (total ", connections.connected_total(), " ok, ", failed, " failed, ",
      connections.closed_total(), " closed)")});
  AppendLatencies(HistogramDelta(before.connections.connect_latency(),
                                 connections.connect_latency()),
                  connections.connect_latency(),
                  connections.connect_latency().counts_size() > 0, rates,
                  "connects", lines);
  std::vector<uint64_t> handshakes;
  for (const v1::ConnectionInfo& connection : connections.connections()) {
    handshakes.push_back(connection.handshake_us());
  }
  lines->push_back(
      {absl::StrCat("  handshake  ", Percentiles(handshakes), "  (of the ",
                    handshakes.size(), " open connections)")});
}

// One function's (or all functions') invocations through swiftd in one
// mode: totals now, and what the interval added.
struct ModeView {
  uint64_t invocations = 0;
  uint64_t failures = 0;
  uint64_t interval_invocations = 0;
  uint64_t interval_failures = 0;
  v1::LatencyHistogram interval_latency;
  v1::LatencyHistogram latency;
};

// The mode stats of `worker` for `mode` (empty when not listed).
const v1::InvocationModeStats& ModeOf(const v1::WorkerInfo& worker,
                                      v1::InvokeRequest::Mode mode) {
  for (const v1::InvocationModeStats& stats : worker.by_mode()) {
    if (stats.mode() == mode) {
      return stats;
    }
  }
  return v1::InvocationModeStats::default_instance();
}

// Indexed as kModes.
constexpr v1::InvokeRequest::Mode kModes[] = {
    v1::InvokeRequest::COLD, v1::InvokeRequest::WARM, v1::InvokeRequest::FORK};

// Every function's invocations, per mode and in all modes ([3]); each
// function against the one of the same name in `before` (none: counted
// from 0).
std::array<ModeView, 4> InvocationViews(const TopSample& before,
                                        const TopSample& after) {
  std::map<std::string, const v1::WorkerInfo*> earlier;
  for (const v1::WorkerInfo& worker : before.workers.workers()) {
    earlier[worker.function()] = &worker;
  }
  std::array<ModeView, 4> views;
  for (const v1::WorkerInfo& worker : after.workers.workers()) {
    const auto it = earlier.find(worker.function());
    const v1::WorkerInfo& then =
        it != earlier.end() ? *it->second : v1::WorkerInfo::default_instance();
    for (size_t m = 0; m < 3; ++m) {
      const v1::InvocationModeStats& now = ModeOf(worker, kModes[m]);
      const v1::InvocationModeStats& was = ModeOf(then, kModes[m]);
      const v1::LatencyHistogram interval =
          HistogramDelta(was.latency(), now.latency());
      for (ModeView* view : {&views[m], &views[3]}) {
        view->invocations += now.invocations();
        view->failures += now.failures();
        view->interval_invocations +=
            Delta(was.invocations(), now.invocations());
        view->interval_failures += Delta(was.failures(), now.failures());
        AddInto(interval, &view->interval_latency);
        AddInto(now.latency(), &view->latency);
      }
    }
  }
  return views;
}

// Invocations: in all (direct channels included, as the workers report
// them), then those through swiftd by mode, with their latencies.
void AppendInvocations(const TopSample& before, const TopSample& after,
                       const Rates& rates, std::vector<Line>* lines) {
  const FunctionTotals earlier = Totals(before.workers);
  const FunctionTotals now = Totals(after.workers);
  lines->push_back({absl::StrCat(
      "invocations  ", rates.PerSecond(earlier.invocations, now.invocations),
      "  failed ", rates.PerSecond(earlier.failures, now.failures), "  (total ",
      now.invocations, ", ", now.failures, " failed)")});
  bool reported = true;
  for (const v1::WorkerInfo& worker : after.workers.workers()) {
    reported = reported && worker.by_mode_size() > 0;
  }
  const std::array<ModeView, 4> views = InvocationViews(before, after);
  constexpr const char* kNames[] = {"  cold       ", "  warm       ",
                                    "  fork       "};
  for (size_t m = 0; m < 3; ++m) {
    const ModeView& view = views[m];
    std::string line = absl::StrCat(kNames[m]);
    if (!reported) {
      absl::StrAppend(&line, "n/a");
    } else {
      absl::StrAppend(&line, rates.PerSecondOf(view.interval_invocations),
                      "  failed ", rates.PerSecondOf(view.interval_failures),
                      "  (total ", view.invocations, ", ", view.failures,
                      " failed");
    }
    if (kModes[m] == v1::InvokeRequest::FORK) {
      // FORK invocations a spare instance served (ahead-forked children).
      absl::StrAppend(&line, reported ? "; " : "  (", "by spares ",
                      rates.PerSecond(earlier.spare_hits, now.spare_hits));
    }
    if (reported || kModes[m] == v1::InvokeRequest::FORK) {
      line += ")";
    }
    lines->push_back({std::move(line)});
  }
  AppendLatencies(views[3].interval_latency, views[3].latency, reported, rates,
                  "invocations", lines);
}

// Handshake admission: what runs and waits now, what was refused lately.
void AppendHandshakes(const TopSample& before, const TopSample& after,
                      const Rates& rates, std::vector<Line>* lines) {
  const v1::AdmissionInfo& earlier = before.connections.admission();
  const v1::AdmissionInfo& now = after.connections.admission();
  std::string line = absl::StrCat("handshakes   ", now.in_flight(),
                                  " in flight, ", now.queued(), " queued");
  // A swiftd that brokers no peers has no admission limits to show.
  if (now.total_limit() > 0) {
    absl::StrAppend(&line, "  (limits ", now.total_limit(), ", ",
                    now.per_peer_limit(), " per peer, ", now.per_tenant_limit(),
                    " per tenant)");
  }
  lines->push_back({std::move(line)});
  lines->push_back({absl::StrCat(
      "  refused    timed out ",
      rates.PerSecond(earlier.timed_out(), now.timed_out()), "  queue full ",
      rates.PerSecond(earlier.queue_full(), now.queue_full()))});
}

void AppendPoolsAndClients(const TopSample& after, std::vector<Line>* lines) {
  uint64_t ready_qps = 0;
  uint64_t in_use = 0;
  for (const v1::ServiceInfo& service : after.services.services()) {
    ready_qps += service.pooled_qps();
    in_use += service.connections();
  }
  lines->push_back({absl::StrCat(
      "pools        ", after.services.services_size(), " services, ", ready_qps,
      " ready QPs, ", in_use, " connections")});
  std::map<int64_t, int> processes;
  for (const v1::AttachedClient& client : after.clients.clients()) {
    ++processes[client.pid()];
  }
  lines->push_back({absl::StrCat(
      "clients      ", after.status.clients_count(), " attached; ",
      after.clients.clients_size(), " fast path connections from ",
      processes.size(), processes.size() == 1 ? " process" : " processes")});
}

// One row per service now listening; its rates against the service of the
// same name in `before` (none: a new service, counted from 0).
std::vector<std::vector<std::string>> ServiceRows(const TopSample& before,
                                                  const TopSample& after,
                                                  const Rates& rates) {
  std::map<std::string, const v1::ServiceInfo*> earlier;
  for (const v1::ServiceInfo& service : before.services.services()) {
    earlier[service.name()] = &service;
  }
  const v1::ServiceInfo none;
  std::vector<std::vector<std::string>> rows;
  for (const v1::ServiceInfo& service : after.services.services()) {
    const auto it = earlier.find(service.name());
    const v1::ServiceInfo& then = it != earlier.end() ? *it->second : none;
    rows.push_back({service.name(), service.owner(),
                    absl::StrCat(service.pooled_qps()),
                    absl::StrCat(service.connections()),
                    rates.Number(then.accepted(), service.accepted()),
                    rates.Number(then.refused(), service.refused())});
  }
  return rows;
}

// One row per registered function, as ServiceRows().
std::vector<std::vector<std::string>> FunctionRows(const TopSample& before,
                                                   const TopSample& after,
                                                   const Rates& rates) {
  std::map<std::string, const v1::WorkerInfo*> earlier;
  for (const v1::WorkerInfo& worker : before.workers.workers()) {
    earlier[worker.function()] = &worker;
  }
  const v1::WorkerInfo none;
  std::vector<std::vector<std::string>> rows;
  for (const v1::WorkerInfo& worker : after.workers.workers()) {
    const auto it = earlier.find(worker.function());
    const v1::WorkerInfo& then = it != earlier.end() ? *it->second : none;
    v1::LatencyHistogram interval;
    for (v1::InvokeRequest::Mode mode : kModes) {
      AddInto(HistogramDelta(ModeOf(then, mode).latency(),
                             ModeOf(worker, mode).latency()),
              &interval);
    }
    const double p99 = HistogramQuantile(interval, 0.99);
    rows.push_back(
        {worker.function(), worker.state(),
         rates.Number(then.invocations(), worker.invocations()),
         rates.Number(then.failures(), worker.failures()),
         rates.comparable() && p99 >= 0 ? FormatLatency(std::llround(p99))
                                        : "-",
         absl::StrCat(worker.instances(), "/", worker.max_instances()),
         absl::StrCat(worker.busy_instances()),
         absl::StrCat(worker.spare_instances())});
  }
  return rows;
}

std::string Render(const std::vector<Line>& lines,
                   const TopFrameOptions& options) {
  std::string out;
  if (options.terminal) {
    out = kHome;
  }
  for (const Line& line : lines) {
    if (!options.terminal) {
      absl::StrAppend(&out, line.text, "\n");
      continue;
    }
    std::string text = line.text;
    if (options.width > 0 && text.size() > static_cast<size_t>(options.width)) {
      text.resize(options.width);
    }
    switch (line.style) {
      case Style::kTitle:
        absl::StrAppend(&out, kBold, text, kNormal);
        break;
      case Style::kTableHeader:
        absl::StrAppend(&out, kReverse, text, kNormal);
        break;
      case Style::kPlain:
        out += text;
        break;
    }
    absl::StrAppend(&out, kEraseToEndOfLine, "\n");
  }
  if (options.terminal) {
    out += kEraseBelow;
  }
  return out;
}

}  // namespace

int64_t Percentile(std::vector<uint64_t> values, double percent) {
  if (values.empty()) {
    return -1;
  }
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(
      std::ceil(percent / 100.0 * static_cast<double>(values.size())));
  return static_cast<int64_t>(
      values[std::clamp<size_t>(rank, 1, values.size()) - 1]);
}

v1::LatencyHistogram HistogramDelta(const v1::LatencyHistogram& before,
                                    const v1::LatencyHistogram& after) {
  const bool same_bounds = before.counts_size() == after.counts_size() &&
                           std::equal(before.upper_bounds_us().begin(),
                                      before.upper_bounds_us().end(),
                                      after.upper_bounds_us().begin(),
                                      after.upper_bounds_us().end());
  bool grew = same_bounds;
  for (int i = 0; grew && i < after.counts_size(); ++i) {
    grew = after.counts(i) >= before.counts(i);
  }
  if (!grew) {
    // Not the same histogram grown: counted again from 0 (a function
    // registered again), or nothing before (`before` empty).
    return after;
  }
  v1::LatencyHistogram delta = after;
  for (int i = 0; i < after.counts_size(); ++i) {
    delta.set_counts(i, after.counts(i) - before.counts(i));
  }
  delta.set_sum_us(Delta(before.sum_us(), after.sum_us()));
  delta.set_count(Delta(before.count(), after.count()));
  return delta;
}

double HistogramQuantile(const v1::LatencyHistogram& histogram,
                         double quantile) {
  const int finite = histogram.upper_bounds_us_size();
  // A well-formed histogram has one count past the bounds (+Inf).
  if (finite == 0 || histogram.counts_size() != finite + 1) {
    return -1;
  }
  const uint64_t total = BucketTotal(histogram);
  if (total == 0) {
    return -1;
  }
  const double rank = std::clamp(quantile, 0.0, 1.0) * total;
  uint64_t below = 0;
  int bucket = 0;
  // The first bucket whose cumulative count reaches the rank.
  for (; bucket < histogram.counts_size(); ++bucket) {
    if (static_cast<double>(below + histogram.counts(bucket)) >= rank &&
        histogram.counts(bucket) > 0) {
      break;
    }
    below += histogram.counts(bucket);
  }
  if (bucket >= finite) {
    // In +Inf: nothing is known past the last bound.
    return static_cast<double>(histogram.upper_bounds_us(finite - 1));
  }
  const double lower =
      bucket == 0 ? 0.0
                  : static_cast<double>(histogram.upper_bounds_us(bucket - 1));
  const double upper = static_cast<double>(histogram.upper_bounds_us(bucket));
  // Spread evenly inside the bucket.
  return lower + (upper - lower) * (rank - static_cast<double>(below)) /
                     static_cast<double>(histogram.counts(bucket));
}

std::string FormatLatency(uint64_t microseconds) {
  if (microseconds < 1000) {
    return absl::StrCat(microseconds, "us");
  }
  if (microseconds < 1000000) {
    return absl::StrFormat("%.1fms", microseconds / 1000.0);
  }
  return absl::StrFormat("%.2fs", microseconds / 1000000.0);
}

std::string FormatTopFrame(const TopSample& before, const TopSample& after,
                           const TopFrameOptions& options) {
  const Rates rates(before, after);
  const v1::GetStatusResponse& status = after.status;
  std::vector<Line> lines;
  lines.push_back(
      {absl::StrCat(
           "swiftd ", status.version(), "  pid ", status.pid(), "  up ",
           FormatDuration(status.uptime_us()), "  at ",
           absl::FormatTime("%H:%M:%S", after.taken, absl::LocalTimeZone()),
           absl::StrFormat("  (rates over %.1fs)", rates.seconds())),
       Style::kTitle});
  if (!rates.comparable()) {
    lines.push_back({before.status.incarnation() != status.incarnation()
                         ? "swiftd restarted between the samples: rates n/a"
                         : "no time passed between the samples: rates n/a"});
  }
  AppendConnects(before, after, rates, &lines);
  AppendInvocations(before, after, rates, &lines);
  AppendHandshakes(before, after, rates, &lines);
  AppendPoolsAndClients(after, &lines);

  std::vector<std::vector<std::string>> service_rows =
      ServiceRows(before, after, rates);
  std::vector<std::vector<std::string>> function_rows =
      FunctionRows(before, after, rates);
  // The tables share what is left of the screen.
  int service_budget = -1;
  int function_budget = -1;
  if (options.terminal && options.height > 0) {
    // Each table: a blank line and its header besides its rows.
    const int left =
        std::max(0, options.height - static_cast<int>(lines.size()) - 4 - 1);
    service_budget = std::min<int>(service_rows.size(), left / 2);
    function_budget = left - service_budget;
  }
  lines.push_back({""});
  if (service_rows.empty()) {
    lines.push_back({"No service listening."});
  } else {
    AppendTable({"SERVICE", "OWNER", "READY QPS", "CONNECTIONS", "ACCEPTS/S",
                 "REFUSED/S"},
                std::move(service_rows), service_budget, "services", &lines);
  }
  lines.push_back({""});
  if (function_rows.empty()) {
    lines.push_back({"No function registered."});
  } else {
    AppendTable({"FUNCTION", "STATE", "INVOCATIONS/S", "FAILED/S", "P99",
                 "INSTANCES", "BUSY", "SPARES"},
                std::move(function_rows), function_budget, "functions", &lines);
  }
  return Render(lines, options);
}

}  // namespace swift::swiftctl
