// ConnectionSetPool implementation; see connection_set_pool.h.
#include "daemon/worker/connection_set_pool.h"

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "daemon/worker/fork/fork_support.h"

namespace swift {

ConnectionSetPool::ConnectionSetPool(Session* session, Targets targets,
                                     int prepared)
    : session_(session),
      targets_(std::move(targets)),
      prepared_target_(prepared) {}

ConnectionSetPool::~ConnectionSetPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (maintainer_.joinable()) {
    maintainer_.join();
  }
  // The sets close as the members go (retired_, then prepared_), before
  // the session the owner destroys after the pool.
}

absl::StatusOr<ConnectionSet> ConnectionSetPool::Connect() {
  ConnectionSet set;
  for (const auto& [host, service] : targets_) {
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        session_->Connect(host, service, absl::Seconds(10));
    if (!connection.ok()) {
      return absl::Status(connection.status().code(),
                          absl::StrCat("connecting to ", service, " on ", host,
                                       ": ", connection.status().message()));
    }
    // Verified here, off the request path: a child would otherwise read
    // /proc/self/maps (milliseconds under emulation) on its first post.
    const uint32_t lkey = (*connection)->mr()->lkey;
    bool verified = false;
    {
      absl::MutexLock lock(&mu_);
      verified = shared_lkeys_.contains(lkey);
    }
    if (!verified) {
      if (absl::Status shared = CheckSharedMemory((*connection)->buffer(),
                                                  (*connection)->buffer_size());
          !shared.ok()) {
        return shared;
      }
      absl::MutexLock lock(&mu_);
      shared_lkeys_.insert(lkey);
    }
    set.push_back(*std::move(connection));
  }
  return set;
}

absl::Status ConnectionSetPool::Fill(int sets) {
  while (prepared_count() < sets) {
    absl::StatusOr<ConnectionSet> set = Connect();
    if (!set.ok()) {
      return set.status();
    }
    absl::MutexLock lock(&mu_);
    prepared_.push_back(*std::move(set));
  }
  return absl::OkStatus();
}

void ConnectionSetPool::StartMaintaining() {
  maintainer_ = std::thread([this] {
    NameThisThread("sw-connsets");
    MaintainLoop();
  });
}

void ConnectionSetPool::MaintainLoop() {
  while (true) {
    std::vector<ConnectionSet> retired;
    bool refill = false;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !retired_.empty() ||
               static_cast<int>(prepared_.size()) < prepared_target_;
      };
      // Also wakes periodically to retry a failed refill.
      mu_.AwaitWithTimeout(absl::Condition(&has_work), absl::Seconds(1));
      if (stopping_) {
        return;
      }
      retired.swap(retired_);
      refill = static_cast<int>(prepared_.size()) < prepared_target_;
    }
    // Closing recycles each QP (back to the pool, its peer told).
    retired.clear();
    if (refill) {
      absl::StatusOr<ConnectionSet> set = Connect();
      if (set.ok()) {
        absl::MutexLock lock(&mu_);
        prepared_.push_back(*std::move(set));
      }
    }
  }
}

absl::StatusOr<ConnectionSet> ConnectionSetPool::Take(bool connect_if_none) {
  {
    absl::MutexLock lock(&mu_);
    if (!prepared_.empty()) {
      ConnectionSet set = std::move(prepared_.front());
      prepared_.pop_front();
      return set;
    }
  }
  if (!connect_if_none) {
    return absl::UnavailableError("no prepared connection set");
  }
  return Connect();
}

void ConnectionSetPool::PutBack(ConnectionSet set) {
  absl::MutexLock lock(&mu_);
  prepared_.push_front(std::move(set));
}

void ConnectionSetPool::Retire(ConnectionSet set) {
  absl::MutexLock lock(&mu_);
  retired_.push_back(std::move(set));
}

ibv_context* ConnectionSetPool::FirstContext() {
  absl::MutexLock lock(&mu_);
  return prepared_.empty() || prepared_.front().empty()
             ? nullptr
             : prepared_.front().front()->qp()->context;
}

absl::flat_hash_set<uint32_t> ConnectionSetPool::SharedLkeys() {
  absl::MutexLock lock(&mu_);
  return shared_lkeys_;
}

int ConnectionSetPool::prepared_count() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(prepared_.size());
}

}  // namespace swift
