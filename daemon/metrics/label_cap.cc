// LabelCap; see label_cap.h.
#include "daemon/metrics/label_cap.h"

namespace swift {

std::string LabelCap::Value(absl::string_view value) {
  absl::MutexLock lock(&mu_);
  if (admitted_.contains(value)) {
    return std::string(value);
  }
  if (admitted_.size() >= max_values_) {
    return std::string(kOther);
  }
  admitted_.insert(std::string(value));
  return std::string(value);
}

size_t LabelCap::size() const {
  absl::MutexLock lock(&mu_);
  return admitted_.size();
}

}  // namespace swift
