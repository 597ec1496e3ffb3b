// PeerReplayGuard implementation; see peer_replay_guard.h.
#include "daemon/broker/peer_replay_guard.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace swift {

absl::Status PeerReplayGuard::Check(absl::Time sent, const std::string& nonce,
                                    absl::Time now) {
  const absl::Duration skew = sent - now;
  if (absl::AbsDuration(skew) > max_skew_) {
    return absl::UnauthenticatedError(absl::StrCat(
        "peer credential is ", absl::FormatDuration(absl::AbsDuration(skew)),
        skew < absl::ZeroDuration() ? " old" : " in the future",
        ": more than the ", absl::FormatDuration(max_skew_),
        " allowed (--peer_auth_max_skew); a replay, or the hosts' clocks "
        "disagree (check NTP)"));
  }
  const int64_t sent_us = absl::ToUnixMicros(sent);
  const int64_t oldest_us = absl::ToUnixMicros(now - max_skew_);
  absl::MutexLock lock(&mu_);
  // Nonces older than the window: the skew check refuses them now.
  while (!by_time_.empty() && by_time_.top().first < oldest_us) {
    seen_.erase(by_time_.top().second);
    by_time_.pop();
  }
  if (sent_us <= floor_us_) {
    return absl::UnauthenticatedError(
        "peer credential is older than the requests this swiftd can still "
        "tell from replays (under load); send it again with a fresh one");
  }
  if (!seen_.insert(nonce).second) {
    return absl::UnauthenticatedError(
        "replayed peer request: this credential was used before");
  }
  by_time_.emplace(sent_us, nonce);
  while (by_time_.size() > capacity_) {
    floor_us_ = std::max(floor_us_, by_time_.top().first);
    seen_.erase(by_time_.top().second);
    by_time_.pop();
  }
  return absl::OkStatus();
}

size_t PeerReplayGuard::size() const {
  absl::MutexLock lock(&mu_);
  return seen_.size();
}

}  // namespace swift
