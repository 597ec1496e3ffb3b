// PrewarmLearner implementation; see prewarm_learner.h.
#include "client/prewarm_learner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace swift {

std::optional<int> PrewarmLearner::Handshaken(const std::string& host,
                                              const std::string& service,
                                              absl::Time now) {
  const std::string key = absl::StrCat(host, "\n", service);
  if (!services_.contains(key)) {
    MakeRoom(now);
  }
  Seen& seen = services_[key];
  if (!seen.handshakes.empty() &&
      now - seen.handshakes.back() > options_.window) {
    seen = Seen();  // Quiet for a whole window: learned afresh.
  }
  seen.handshakes.push_back(now);
  while (now - seen.handshakes.front() > options_.window) {
    seen.handshakes.pop_front();
  }
  if (static_cast<int>(seen.handshakes.size()) < options_.after) {
    return std::nullopt;
  }
  const int target =
      std::clamp(PeakPerSecond(seen), 1, std::max(1, options_.max_per_service));
  if (target <= seen.suggested) {
    return std::nullopt;
  }
  seen.suggested = target;
  return target;
}

int PrewarmLearner::PeakPerSecond(const Seen& seen) {
  int peak = 0;
  size_t first = 0;
  for (size_t last = 0; last < seen.handshakes.size(); ++last) {
    while (seen.handshakes[last] - seen.handshakes[first] >= absl::Seconds(1)) {
      ++first;
    }
    peak = std::max(peak, static_cast<int>(last - first + 1));
  }
  return peak;
}

void PrewarmLearner::MakeRoom(absl::Time now) {
  for (auto it = services_.begin(); it != services_.end();) {
    if (now - it->second.handshakes.back() > options_.window) {
      services_.erase(it++);
    } else {
      ++it;
    }
  }
  if (static_cast<int>(services_.size()) < std::max(1, options_.max_services)) {
    return;
  }
  auto oldest = std::min_element(
      services_.begin(), services_.end(), [](const auto& a, const auto& b) {
        return a.second.handshakes.back() < b.second.handshakes.back();
      });
  services_.erase(oldest);
}

}  // namespace swift
