// FamilyBuilder; see family_builder.h.
#include "daemon/metrics/family_builder.h"

#include "prometheus/client_metric.h"

namespace swift {

FamilyBuilder::FamilyBuilder(std::string name, std::string help,
                             prometheus::MetricType type)
    : name_(std::move(name)), help_(std::move(help)), type_(type) {}

FamilyBuilder& FamilyBuilder::Add(const MetricLabels& labels, double value) {
  samples_[labels] += value;
  return *this;
}

FamilyBuilder& FamilyBuilder::Touch(const MetricLabels& labels) {
  samples_.try_emplace(labels, 0.0);
  return *this;
}

void FamilyBuilder::AppendTo(
    std::vector<prometheus::MetricFamily>* families) const {
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = help_;
  family.type = type_;
  for (const auto& [labels, value] : samples_) {
    prometheus::ClientMetric metric;
    for (const auto& [name, label_value] : labels) {
      metric.label.push_back(
          prometheus::ClientMetric::Label{name, label_value});
    }
    if (type_ == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    family.metric.push_back(std::move(metric));
  }
  families->push_back(std::move(family));
}

}  // namespace swift
