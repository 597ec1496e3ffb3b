// FamilyBuilder: one Prometheus metric family (a gauge or a counter) built
// at scrape time from a subsystem's listing, for the collectors of this
// folder. Samples with the same labels are summed, so that values folded
// into one label ("other", see LabelCap) still give one series each.
//
// Only the data model of prometheus-cpp is built here; its serializer
// writes the exposition format. Thread-compatible: one scrape builds it.
#ifndef SWIFT_DAEMON_METRICS_FAMILY_BUILDER_H_
#define SWIFT_DAEMON_METRICS_FAMILY_BUILDER_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"

namespace swift {

// Label names and values, in the order the family's labels are declared.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class FamilyBuilder final {
 public:
  // `type` is prometheus::MetricType::Gauge or ::Counter.
  FamilyBuilder(std::string name, std::string help,
                prometheus::MetricType type);

  // Adds `value` to the sample labelled `labels` (created at 0).
  FamilyBuilder& Add(const MetricLabels& labels, double value);
  // Makes sure the sample labelled `labels` exists (at 0 if new), so that
  // a series is exported before its first event.
  FamilyBuilder& Touch(const MetricLabels& labels);

  // The family, samples ordered by their labels; appended to `families`.
  void AppendTo(std::vector<prometheus::MetricFamily>* families) const;

 private:
  std::string name_;
  std::string help_;
  prometheus::MetricType type_;
  std::map<MetricLabels, double> samples_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_FAMILY_BUILDER_H_
