// ClosedNotices implementation; see closed_notices.h.
#include "daemon/broker/closed_notices.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"

namespace swift {

void ClosedNotices::Add(const std::string& caller, uint64_t incarnation,
                        uint64_t client_connection_id, absl::Time now) {
  if (caller.empty() || incarnation == 0 || client_connection_id == 0) {
    return;
  }
  absl::MutexLock lock(&mu_);
  ForgetStaleLocked(now);
  const Key key(caller, incarnation);
  if (!kept_.contains(key) && kept_.size() >= options_.max_callers) {
    // The caller heard from longest ago makes room.
    auto oldest = kept_.begin();
    for (auto it = kept_.begin(); it != kept_.end(); ++it) {
      if (it->second.touched < oldest->second.touched) {
        oldest = it;
      }
    }
    kept_.erase(oldest);
  }
  Kept& kept = kept_[key];
  kept.touched = now;
  kept.closed.push_back(client_connection_id);
  while (kept.closed.size() > options_.max_per_caller) {
    kept.closed.pop_front();
    kept.lost = true;
  }
}

ClosedNotices::Batch ClosedNotices::Collect(const std::string& caller,
                                            uint64_t incarnation,
                                            absl::Span<const uint64_t> acked,
                                            bool acked_lost, absl::Time now) {
  Batch batch;
  absl::MutexLock lock(&mu_);
  ForgetStaleLocked(now);
  for (auto it = kept_.begin(); it != kept_.end();) {
    auto next = std::next(it);
    if (it->first.first == caller && it->first.second != incarnation) {
      kept_.erase(it);
    }
    it = next;
  }
  auto it = kept_.find(Key(caller, incarnation));
  if (it == kept_.end()) {
    return batch;
  }
  Kept& kept = it->second;
  kept.touched = now;
  if (!acked.empty()) {
    const absl::flat_hash_set<uint64_t> done(acked.begin(), acked.end());
    kept.closed.erase(
        std::remove_if(kept.closed.begin(), kept.closed.end(),
                       [&](uint64_t id) { return done.contains(id); }),
        kept.closed.end());
  }
  if (acked_lost) {
    kept.lost = false;
  }
  const size_t count = std::min(kept.closed.size(), options_.max_batch);
  batch.closed.assign(kept.closed.begin(), kept.closed.begin() + count);
  batch.lost = kept.lost;
  if (kept.closed.empty() && !kept.lost) {
    kept_.erase(it);
  }
  return batch;
}

size_t ClosedNotices::size() const {
  absl::MutexLock lock(&mu_);
  size_t total = 0;
  for (const auto& [key, kept] : kept_) {
    total += kept.closed.size();
  }
  return total;
}

void ClosedNotices::ForgetStaleLocked(absl::Time now) {
  for (auto it = kept_.begin(); it != kept_.end();) {
    auto next = std::next(it);
    if (now - it->second.touched > options_.max_age) {
      kept_.erase(it);
    }
    it = next;
  }
}

}  // namespace swift
