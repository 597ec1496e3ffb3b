// LabelCap: keeps a metric label's values to a bounded set. The first
// `max_values` distinct values pass as they are; every later one becomes
// "other", so that a tenant who registers a thousand function names (or a
// thousand uids that connect) cannot make swiftd's metrics, or the
// Prometheus server scraping them, grow without bound.
//
// A value, once admitted, stays admitted (a series never changes its name
// between scrapes). Thread-safe.
#ifndef SWIFT_DAEMON_METRICS_LABEL_CAP_H_
#define SWIFT_DAEMON_METRICS_LABEL_CAP_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace swift {

class LabelCap final {
 public:
  // What values past the cap become.
  static constexpr absl::string_view kOther = "other";

  explicit LabelCap(size_t max_values) : max_values_(max_values) {}
  LabelCap(const LabelCap&) = delete;
  LabelCap& operator=(const LabelCap&) = delete;

  // Value()
  //
  // `value` if it was admitted before or there is room for it (it is then
  // admitted), "other" otherwise.
  std::string Value(absl::string_view value) ABSL_LOCKS_EXCLUDED(mu_);

  // Values admitted so far.
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const size_t max_values_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> admitted_ ABSL_GUARDED_BY(mu_);
};

}  // namespace swift

#endif  // SWIFT_DAEMON_METRICS_LABEL_CAP_H_
