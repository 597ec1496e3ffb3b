// FunctionCollector; see function_collector.h.
#include "daemon/metrics/function_collector.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/metrics/family_builder.h"

namespace swift {
namespace {

// List()'s state, without its details: "failed: <reason>, retrying in
// <N>s" is "failed".
std::string StateLabel(const std::string& state) {
  for (const char* known : {"ready", "exited", "starting", "restoring"}) {
    if (state == known) {
      return known;
    }
  }
  return absl::StartsWith(state, "failed") ? "failed" : "other";
}

}  // namespace

std::vector<prometheus::MetricFamily> FunctionCollector::Collect() const {
  using prometheus::MetricType;
  const View view = source_();
  FamilyBuilder states("swift_functions",
                       "Registered functions, by state (ready, exited: its "
                       "worker ended, starting, restoring, failed: a restore "
                       "attempt failed and will be retried).",
                       MetricType::Gauge);
  for (const char* state :
       {"ready", "exited", "starting", "restoring", "failed"}) {
    states.Touch({{"state", state}});
  }
  FamilyBuilder invocations(
      "swift_function_invocations_total",
      "Invocations of a function since its registration, through swiftd and "
      "on direct channels (as its worker reports them).",
      MetricType::Counter);
  FamilyBuilder failures("swift_function_failures_total",
                         "Invocations of a function that failed.",
                         MetricType::Counter);
  FamilyBuilder instances("swift_function_instances",
                          "Live instances of a function's worker (busy and "
                          "spare ones included).",
                          MetricType::Gauge);
  FamilyBuilder busy("swift_function_busy_instances",
                     "Instances running an invocation now.", MetricType::Gauge);
  FamilyBuilder spares("swift_function_spare_instances",
                       "Spare instances: forked ahead, ready for a FORK "
                       "invocation.",
                       MetricType::Gauge);
  FamilyBuilder sets("swift_function_prepared_sets",
                     "Connected QP sets ready for the worker's next "
                     "instances.",
                     MetricType::Gauge);
  FamilyBuilder forks("swift_function_forks_total",
                      "Instances the function's worker forked.",
                      MetricType::Counter);
  FamilyBuilder spare_hits("swift_function_spare_hits_total",
                           "FORK invocations a spare instance served.",
                           MetricType::Counter);
  uint64_t crashed = 0;
  {
    absl::MutexLock lock(&mu_);
    for (const v1::WorkerInfo& info : view.functions) {
      const std::string state = StateLabel(info.state());
      states.Add({{"state", state}}, 1);
      if (state == "exited" && info.worker_pid() != 0 &&
          exits_seen_
              .insert(absl::StrCat(info.function(), "/", info.worker_pid()))
              .second) {
        ++crashed_;
      }
      const MetricLabels function = {
          {"function", functions_->Value(info.function())}};
      invocations.Add(function, static_cast<double>(info.invocations()));
      failures.Add(function, static_cast<double>(info.failures()));
      instances.Add(function, info.instances());
      busy.Add(function, info.busy_instances());
      spares.Add(function, info.spare_instances());
      sets.Add(function, info.prepared_sets());
      forks.Add(function, static_cast<double>(info.forks()));
      spare_hits.Add(function, static_cast<double>(info.spare_hits()));
    }
    crashed = crashed_;
  }
  std::vector<prometheus::MetricFamily> families;
  for (const FamilyBuilder* family :
       {&states, &invocations, &failures, &instances, &busy, &spares, &sets,
        &forks, &spare_hits}) {
    family->AppendTo(&families);
  }
  FamilyBuilder("swift_workers",
                "Function workers swiftd holds now, registered and COLD ones "
                "(--max_workers).",
                MetricType::Gauge)
      .Add({}, view.workers)
      .AppendTo(&families);
  FamilyBuilder("swift_workers_crashed_total",
                "Workers of registered functions found exited (crashed or "
                "killed) while their function was still registered.",
                MetricType::Counter)
      .Add({}, static_cast<double>(crashed))
      .AppendTo(&families);
  return families;
}

}  // namespace swift
