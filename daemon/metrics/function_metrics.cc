// FunctionMetrics; see function_metrics.h.
#include "daemon/metrics/function_metrics.h"

#include "daemon/metrics/latency_buckets.h"

namespace swift {

FunctionMetrics::FunctionMetrics(LabelCap* functions)
    : functions_(functions),
      registry_(std::make_shared<prometheus::Registry>()),
      invocations_(&prometheus::BuildCounter()
                        .Name("swift_invocations_total")
                        .Help("Invocations that reached a registered "
                              "function through swiftd, by function, mode "
                              "(fork, warm, cold) and result (OK or the "
                              "status code name).")
                        .Register(*registry_)),
      durations_(&prometheus::BuildHistogram()
                      .Name("swift_invocation_duration_seconds")
                      .Help("How long invocations through swiftd took, "
                            "request to reply, by function, mode and "
                            "result, in seconds.")
                      .Register(*registry_)),
      workers_started_(&prometheus::BuildCounter()
                            .Name("swift_workers_started_total")
                            .Help("Worker processes swiftd started that "
                                  "got ready, by reason: register, cold (a "
                                  "COLD invocation's own worker), restore "
                                  "(a stored function brought back after "
                                  "a restart).")
                            .Register(*registry_)) {
  for (const char* reason : {"register", "cold", "restore"}) {
    workers_started_->Add({{"reason", reason}});
  }
}

const char* FunctionMetrics::ModeName(v1::InvokeRequest::Mode mode) {
  switch (mode) {
    case v1::InvokeRequest::COLD:
      return "cold";
    case v1::InvokeRequest::WARM:
      return "warm";
    default:
      return "fork";
  }
}

void FunctionMetrics::ObserveInvocation(const std::string& function,
                                        v1::InvokeRequest::Mode mode,
                                        const absl::Status& result,
                                        absl::Duration elapsed) {
  const std::map<std::string, std::string> labels = {
      {"function", functions_->Value(function)},
      {"mode", ModeName(mode)},
      {"result", absl::StatusCodeToString(result.code())}};
  invocations_->Add(labels).Increment();
  durations_->Add(labels, LatencyBuckets())
      .Observe(absl::ToDoubleSeconds(elapsed));
}

void FunctionMetrics::CountWorkerStarted(absl::string_view reason) {
  workers_started_->Add({{"reason", std::string(reason)}}).Increment();
}

}  // namespace swift
