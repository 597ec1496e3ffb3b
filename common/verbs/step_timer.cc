// StepTimer implementation; see step_timer.h.
#include "common/verbs/step_timer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace swift::verbs {

void StepTimer::Record(absl::string_view name, double micros) {
  // A handful of steps: a linear search beats any map here.
  for (auto& [step, total] : steps_) {
    if (step == name) {
      total += micros;
      return;
    }
  }
  steps_.emplace_back(std::string(name), micros);
}

double StepTimer::Micros(absl::string_view name) const {
  for (const auto& [step, total] : steps_) {
    if (step == name) {
      return total;
    }
  }
  return 0;
}

bool StepTimer::Has(absl::string_view name) const {
  for (const auto& step : steps_) {
    if (step.first == name) {
      return true;
    }
  }
  return false;
}

double StepTimer::SumMicros() const {
  double sum = 0;
  for (const auto& step : steps_) {
    sum += step.second;
  }
  return sum;
}

void StepTimer::Restart() {
  steps_.clear();
  start_ = Clock::now();
}

std::string StepTimer::StepsJson() const {
  std::string json = "{";
  for (size_t i = 0; i < steps_.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ",", JsonQuote(steps_[i].first), ":",
                    absl::StrFormat("%.1f", steps_[i].second));
  }
  json += "}";
  return json;
}

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

}  // namespace swift::verbs
