// ColdTemplates implementation; see cold_templates.h.
#include "daemon/functions/cold_templates.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "glog/logging.h"

namespace swift {

ColdTemplates::Lease::~Lease() {
  if (owner_ != nullptr) {
    owner_->Release(key_, process_.get(), /*discard=*/false);
  }
}

void ColdTemplates::Lease::Discard() {
  if (owner_ != nullptr) {
    owner_->Release(key_, process_.get(), /*discard=*/true);
    owner_ = nullptr;
  }
  // Whether or not it was still the key's template: it is killed (its
  // process group, so its children too) and reaped by its reader.
  process_->Kill();
}

ColdTemplates::ColdTemplates(Options options) : options_(options) {
  expirer_ = std::thread([this] {
    NameThisThread("sw-cold-expire");
    ExpireLoop();
  });
}

ColdTemplates::~ColdTemplates() { Shutdown(); }

absl::StatusOr<ColdTemplates::Lease> ColdTemplates::Acquire(
    const Key& key, const Launch& launch) {
  {
    absl::MutexLock lock(&mu_);
    while (true) {
      if (stopping_) {
        return absl::CancelledError("swiftd is stopping");
      }
      Entry& entry = entries_[key];
      if (entry.launching) {
        auto launched = [this, &key]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          auto it = entries_.find(key);
          return stopping_ || it == entries_.end() || !it->second.launching;
        };
        mu_.Await(absl::Condition(&launched));
        continue;
      }
      const absl::Time now = absl::Now();
      if (entry.process != nullptr && !entry.process->exited()) {
        ++entry.in_use;
        entry.last_used = now;
        return Lease(this, key, entry.process, /*launched=*/false);
      }
      if (entry.process != nullptr) {
        // It died (killed, crashed): replaced now. Leases still holding it
        // fail their calls and no longer count.
        LOG(WARNING) << "The cold template (pid " << entry.process->pid()
                     << ") of uid " << key.uid << " has exited; starting "
                     << "another";
        entry.process.reset();
        entry.in_use = 0;
      }
      if (now < entry.failed_until) {
        return absl::UnavailableError(absl::StrCat(
            "the cold template could not start ",
            absl::FormatDuration(now - (entry.failed_until -
                                        options_.retry_after_failure)),
            " ago: ", entry.failure.message()));
      }
      entry.launching = true;
      break;
    }
  }
  // Outside the lock: a start takes a whole worker's start-up.
  absl::StatusOr<std::shared_ptr<WorkerProcess>> launched = launch();
  std::shared_ptr<WorkerProcess> unwanted;
  absl::MutexLock lock(&mu_);
  Entry& entry = entries_[key];
  entry.launching = false;
  if (!launched.ok()) {
    entry.failure = launched.status();
    entry.failed_until = absl::Now() + options_.retry_after_failure;
    return launched.status();
  }
  if (stopping_) {
    unwanted = *std::move(launched);  // Killed and reaped on return.
    return absl::CancelledError("swiftd is stopping");
  }
  entry.process = *launched;
  entry.in_use = 1;
  entry.last_used = absl::Now();
  entry.failure = absl::OkStatus();
  entry.failed_until = absl::Time();
  return Lease(this, key, *std::move(launched), /*launched=*/true);
}

void ColdTemplates::Release(const Key& key, const WorkerProcess* process,
                            bool discard) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.process.get() != process) {
    return;  // Replaced or stopped meanwhile.
  }
  it->second.in_use = std::max(0, it->second.in_use - 1);
  it->second.last_used = absl::Now();
  if (discard) {
    // The caller kills it; the entry no longer hands it out.
    it->second.process.reset();
    it->second.in_use = 0;
  }
}

void ColdTemplates::ExpireLoop() {
  const absl::Duration period = std::clamp(
      options_.idle_timeout / 4, absl::Milliseconds(10), absl::Seconds(1));
  while (true) {
    std::vector<std::shared_ptr<WorkerProcess>> idle;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), period);
      if (stopping_) {
        return;
      }
      const absl::Time now = absl::Now();
      for (auto it = entries_.begin(); it != entries_.end();) {
        Entry& entry = it->second;
        const bool unused = !entry.launching && entry.in_use == 0;
        const bool expired =
            entry.process != nullptr &&
            (entry.process->exited() ||
             now - entry.last_used >= options_.idle_timeout);
        const bool empty = entry.process == nullptr && now >= entry.failed_until;
        if (unused && (expired || empty)) {
          if (entry.process != nullptr) {
            idle.push_back(std::move(entry.process));
          }
          it = entries_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const std::shared_ptr<WorkerProcess>& process : idle) {
      if (!process->exited()) {
        LOG(INFO) << "Stopping the cold template (pid " << process->pid()
                  << "): idle for " << options_.idle_timeout;
        // It retires (closes its QPs) and exits; killed after the grace.
        process->Stop(options_.stop_grace);
      }
    }
    // Reaped as the last references go here.
  }
}

std::vector<pid_t> ColdTemplates::Pids() const {
  absl::MutexLock lock(&mu_);
  std::vector<pid_t> pids;
  for (const auto& [key, entry] : entries_) {
    if (entry.process != nullptr && !entry.process->exited()) {
      pids.push_back(entry.process->pid());
    }
  }
  return pids;
}

void ColdTemplates::Shutdown() {
  std::vector<std::shared_ptr<WorkerProcess>> all;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [key, entry] : entries_) {
      if (entry.process != nullptr) {
        all.push_back(std::move(entry.process));
      }
    }
    entries_.clear();
  }
  if (expirer_.joinable()) {
    expirer_.join();
  }
  for (const std::shared_ptr<WorkerProcess>& process : all) {
    process->Kill();
  }
  // Reaped as `all` goes (unless a lease still holds one).
}

}  // namespace swift
