// PreconnectPool implementation; see preconnect_pool.h.
#include "client/preconnect_pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/connect_steps.h"
#include "common/thread_name.h"

namespace swift {
namespace {

using Pairs = std::deque<std::unique_ptr<ConnectionImpl>>;

// Pairs are closed (a call to swiftd each) only outside the pool's lock:
// collected under it into one of these, which closes them when it goes.
struct ToClose {
  Pairs pairs;
};

}  // namespace

PreconnectPool::PreconnectPool(Options options, Hooks hooks)
    : options_(options), hooks_(std::move(hooks)) {}

PreconnectPool::~PreconnectPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  ToClose closing;
  absl::MutexLock lock(&mu_);
  for (auto& [key, service] : services_) {
    std::move(service.ready.begin(), service.ready.end(),
              std::back_inserter(closing.pairs));
  }
  services_.clear();
  // `closing` is destroyed after the lock is released (declared first).
}

std::string PreconnectPool::KeyOf(const std::string& host,
                                  const std::string& service) {
  return absl::StrCat(host, std::string(1, '\0'), service);
}

bool PreconnectPool::WantsMoreLocked(const std::string& key) const {
  auto it = services_.find(key);
  return !stopping_ && it != services_.end() &&
         static_cast<int>(it->second.ready.size()) < it->second.target;
}

int PreconnectPool::TargetsLocked() const {
  int total = 0;
  for (const auto& [key, service] : services_) {
    total += service.target;
  }
  return total;
}

int PreconnectPool::ReadyLocked() const {
  int total = 0;
  for (const auto& [key, service] : services_) {
    total += static_cast<int>(service.ready.size());
  }
  return total;
}

void PreconnectPool::NoteDiscardLocked(int count, const std::string& reason) {
  if (count <= 0) {
    return;
  }
  stats_.discarded += count;
  stats_.last_discard_reason = reason;
}

void PreconnectPool::StartThreadLocked() {
  if (!thread_.joinable()) {
    thread_ = std::thread([this] {
      NameThisThread("swift-preconn");
      Loop();
    });
  }
}

absl::StatusOr<int> PreconnectPool::Prewarm(const std::string& host,
                                            const std::string& service,
                                            int count, absl::Duration timeout) {
  if (host.empty() || service.empty()) {
    return absl::InvalidArgumentError("Prewarm needs a host and a service");
  }
  if (count < 0 || count > options_.max_pairs) {
    return absl::InvalidArgumentError(
        absl::StrCat("Prewarm: count must be 0 to max_preconnected (",
                     options_.max_pairs, ", SessionOptions), got ", count));
  }
  const std::string key = KeyOf(host, service);
  const absl::Time deadline = absl::Now() + timeout;
  ToClose dropped;
  {
    absl::MutexLock lock(&mu_);
    auto it = services_.find(key);
    if (count == 0) {
      if (it != services_.end()) {
        NoteDiscardLocked(static_cast<int>(it->second.ready.size()),
                          "Prewarm(0) for the service");
        dropped.pairs = std::move(it->second.ready);
        services_.erase(it);
      }
      return 0;
    }
    const int others =
        TargetsLocked() - (it == services_.end() ? 0 : it->second.target);
    if (others + count > options_.max_pairs) {
      return absl::ResourceExhaustedError(
          absl::StrCat("Prewarm: this session keeps ", others,
                       " pre-connected pairs for other services; ", count,
                       " more would pass max_preconnected (",
                       options_.max_pairs, ", SessionOptions)"));
    }
    Service& entry = services_[key];
    entry.host = host;
    entry.name = service;
    entry.target = count;
    entry.last_used = absl::Now();
    entry.next_attempt = absl::InfinitePast();
    entry.backoff = absl::ZeroDuration();
    while (static_cast<int>(entry.ready.size()) > count) {
      dropped.pairs.push_back(std::move(entry.ready.front()));
      entry.ready.pop_front();
    }
    NoteDiscardLocked(static_cast<int>(dropped.pairs.size()),
                      "Prewarm() asked for fewer");
    StartThreadLocked();
  }
  absl::Status error;
  while (absl::Now() < deadline) {
    {
      absl::MutexLock lock(&mu_);
      if (!WantsMoreLocked(key)) {
        break;
      }
    }
    if (!RefillOne(key, deadline - absl::Now(), &error)) {
      break;
    }
  }
  absl::MutexLock lock(&mu_);
  auto it = services_.find(key);
  const int ready =
      it == services_.end() ? 0 : static_cast<int>(it->second.ready.size());
  if (ready == 0 && !error.ok()) {
    return error;
  }
  return ready;
}

bool PreconnectPool::RefillOne(const std::string& key, absl::Duration timeout,
                               absl::Status* error) {
  std::string host;
  std::string name;
  {
    absl::MutexLock lock(&mu_);
    auto it = services_.find(key);
    if (it == services_.end()) {
      return false;
    }
    host = it->second.host;
    name = it->second.name;
  }
  // Read before the handshake: a change during it shows as a newer count.
  const std::optional<ChangeCount> before = GenerationNow();
  absl::StatusOr<std::unique_ptr<ConnectionImpl>> made =
      hooks_.connect(host, name, timeout);
  std::unique_ptr<ConnectionImpl> extra;
  absl::MutexLock lock(&mu_);
  auto it = services_.find(key);
  if (!made.ok()) {
    ++stats_.refill_errors;
    stats_.last_refill_error =
        absl::StrCat(host, "/", name, ": ", made.status().ToString());
    if (it != services_.end()) {
      Service& service = it->second;
      service.backoff = std::min(
          std::max(service.backoff * 2, absl::Milliseconds(100)), kMaxBackoff);
      service.next_attempt = absl::Now() + service.backoff;
    }
    *error = made.status();
    return false;
  }
  ++stats_.made;
  if (!WantsMoreLocked(key)) {
    extra = *std::move(made);  // Nobody wants it now: closed below.
    NoteDiscardLocked(1, "made while the service's pool was full");
    return true;
  }
  it->second.backoff = absl::ZeroDuration();
  it->second.ready.push_back(*std::move(made));
  ++additions_;
  if (ReadyLocked() == 1) {
    verified_generation_ = before;  // The only pair: live at `before`.
  } else if (!before.has_value() || before != verified_generation_) {
    verified_generation_.reset();  // Live at another count: unproven now.
  }
  return true;
}

PreconnectPool::Taken PreconnectPool::Take(const std::string& host,
                                           const std::string& service) {
  Taken taken;
  const std::string key = KeyOf(host, service);
  for (int attempt = 0; attempt < kMaxTriesPerTake; ++attempt) {
    std::unique_ptr<ConnectionImpl> pair;
    // The count at which the pair was known live, taken with it: a prune
    // running once it has left the pool does not cover it.
    std::optional<ChangeCount> vouched;
    {
      absl::MutexLock lock(&mu_);
      auto it = services_.find(key);
      if (it == services_.end()) {
        return taken;  // Not prewarmed: not a miss.
      }
      Service& entry = it->second;
      entry.last_used = absl::Now();
      if (entry.ready.empty()) {
        ++stats_.misses;
        wanted_ = true;
        return taken;
      }
      // The newest: the least likely to have gone stale.
      pair = std::move(entry.ready.back());
      entry.ready.pop_back();
      vouched = verified_generation_;
      if (static_cast<int>(entry.ready.size()) < entry.target) {
        wanted_ = true;
      }
    }
    // The probe flies while swiftd is asked: the two round trips overlap.
    const absl::Time probe_start = absl::Now();
    const absl::Status posted = hooks_.post_probe(*pair);
    const absl::Time check_start = absl::Now();
    // Nothing changed since every pooled pair was known live: swiftd would
    // answer "live", so it is not asked.
    const std::optional<ChangeCount> generation = GenerationNow();
    const bool unchanged = generation.has_value() && generation == vouched;
    if (unchanged) {
      absl::MutexLock lock(&mu_);
      ++stats_.checks_saved;
    }
    absl::StatusOr<std::vector<std::string>> checked =
        unchanged ? std::vector<std::string>(1) : hooks_.check({pair->id()});
    taken.check_us += MicrosSince(check_start);
    std::string why;
    if (!posted.ok()) {
      why = absl::StrCat("the pair's probe could not be sent: ",
                         posted.message());
    } else if (!checked.ok()) {
      why = absl::StrCat("swiftd could not check the pair: ",
                         checked.status().message());
    } else if (checked->size() != 1) {
      why = "swiftd answered the pair's check with the wrong count";
    } else {
      why = (*checked)[0];
    }
    if (why.empty()) {
      const absl::Time await_start = absl::Now();
      const absl::Status probed = hooks_.await_probe(*pair);
      // The probe's own share: posting it, and what was left to wait for
      // after the check.
      taken.probe_us += absl::ToDoubleMicroseconds(check_start - probe_start) +
                        MicrosSince(await_start);
      if (probed.ok()) {
        absl::MutexLock lock(&mu_);
        ++stats_.hits;
        taken.connection = std::move(pair);
        return taken;
      }
      // The peer's QPs are likely all gone (its process or host): the
      // service's other pairs would fail the same way.
      why = absl::StrCat("the pair failed its probe: ", probed.message());
      ToClose others;
      {
        absl::MutexLock lock(&mu_);
        auto it = services_.find(key);
        if (it != services_.end()) {
          others.pairs = std::move(it->second.ready);
          it->second.ready.clear();
        }
        NoteDiscardLocked(1 + static_cast<int>(others.pairs.size()), why);
        ++stats_.misses;
        wanted_ = true;
      }
      pair.reset();
      taken.why_not = why;
      return taken;
    }
    {
      absl::MutexLock lock(&mu_);
      NoteDiscardLocked(1, why);
    }
    pair.reset();  // Closed: swiftd is told (it forgets the connection).
    taken.why_not = why;
  }
  absl::MutexLock lock(&mu_);
  ++stats_.misses;
  wanted_ = true;
  return taken;
}

PreconnectStats PreconnectPool::stats() const {
  absl::MutexLock lock(&mu_);
  PreconnectStats stats = stats_;
  stats.ready = ReadyLocked();
  stats.target = TargetsLocked();
  return stats;
}

void PreconnectPool::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || wanted_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&woken), kPruneInterval);
      if (stopping_) {
        return;
      }
      wanted_ = false;
    }
    RunRound();
  }
}

void PreconnectPool::RunRound() {
  absl::MutexLock round(&round_mu_);
  Expire(absl::Now());
  Prune();
  Refill();
}

void PreconnectPool::Expire(absl::Time now) {
  ToClose expired;
  absl::MutexLock lock(&mu_);
  for (auto it = services_.begin(); it != services_.end();) {
    auto next = std::next(it);
    if (now - it->second.last_used > options_.idle_timeout) {
      NoteDiscardLocked(
          static_cast<int>(it->second.ready.size()),
          absl::StrCat("no Connect() to ", it->second.host, "/",
                       it->second.name, " took a pair for ",
                       absl::FormatDuration(options_.idle_timeout)));
      std::move(it->second.ready.begin(), it->second.ready.end(),
                std::back_inserter(expired.pairs));
      services_.erase(it);
    }
    it = next;
  }
}

std::optional<PreconnectPool::ChangeCount> PreconnectPool::GenerationNow()
    const {
  return hooks_.generation ? hooks_.generation() : std::nullopt;
}

void PreconnectPool::Prune() {
  // Read before asking: every pair found live was live at this count.
  const std::optional<ChangeCount> before = GenerationNow();
  std::vector<uint64_t> ids;
  uint64_t additions = 0;
  {
    absl::MutexLock lock(&mu_);
    additions = additions_;
    for (const auto& [key, service] : services_) {
      for (const auto& pair : service.ready) {
        ids.push_back(pair->id());
      }
    }
  }
  // One call per 1024 (swiftd's bound per check).
  constexpr size_t kPerCall = 1024;
  for (size_t start = 0; start < ids.size(); start += kPerCall) {
    const std::vector<uint64_t> batch(
        ids.begin() + start,
        ids.begin() + std::min(ids.size(), start + kPerCall));
    absl::StatusOr<std::vector<std::string>> checked = hooks_.check(batch);
    if (!checked.ok() || checked->size() != batch.size()) {
      absl::MutexLock lock(&mu_);
      verified_generation_.reset();
      return;  // Take() finds out, pair by pair.
    }
    absl::flat_hash_map<uint64_t, std::string> dead;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!(*checked)[i].empty()) {
        dead[batch[i]] = (*checked)[i];
      }
    }
    if (dead.empty()) {
      continue;
    }
    ToClose pruned;
    absl::MutexLock lock(&mu_);
    for (auto& [key, service] : services_) {
      for (auto it = service.ready.begin(); it != service.ready.end();) {
        auto found = dead.find((*it)->id());
        if (found == dead.end()) {
          ++it;
          continue;
        }
        NoteDiscardLocked(1, found->second);
        pruned.pairs.push_back(std::move(*it));
        it = service.ready.erase(it);
        wanted_ = true;
      }
    }
  }
  // Every pair pooled when `before` was read is known live at it, unless
  // pairs were added meanwhile (RefillOne() then kept or dropped the
  // count by itself).
  absl::MutexLock lock(&mu_);
  if (!before.has_value()) {
    verified_generation_.reset();
  } else if (additions_ == additions) {
    verified_generation_ = before;
  }
}

void PreconnectPool::Refill() {
  std::vector<std::string> keys;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    for (const auto& [key, service] : services_) {
      if (static_cast<int>(service.ready.size()) < service.target &&
          service.next_attempt <= now) {
        keys.push_back(key);
      }
    }
  }
  for (const std::string& key : keys) {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (!WantsMoreLocked(key)) {
          break;
        }
      }
      absl::Status error;
      if (!RefillOne(key, options_.connect_timeout, &error)) {
        break;
      }
    }
  }
}

}  // namespace swift
