// PeerWatcher implementation; see peer_watcher.h.
#include "daemon/broker/peer_watcher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "common/version.h"
#include "daemon/broker/peer_calls.h"
#include "glog/logging.h"

namespace swift {

PeerWatcher::PeerWatcher(PeerDirectory* peers, absl::Duration interval,
                         TargetsFn targets, WatchedFn watched)
    : peers_(peers),
      interval_(interval),
      targets_(std::move(targets)),
      watched_(std::move(watched)) {
  if (interval_ > absl::ZeroDuration()) {
    thread_ = std::thread([this] {
      NameThisThread("sw-peerwatch");
      Loop();
    });
  }
}

PeerWatcher::~PeerWatcher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

uint64_t PeerWatcher::rounds() const {
  absl::MutexLock lock(&mu_);
  return rounds_;
}

void PeerWatcher::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) {
        return;
      }
    }
    WatchNow();
  }
}

absl::StatusOr<peer::v1::WatchResponse> PeerWatcher::Watch(
    const std::string& address, const Acks& acks) {
  // A round never takes longer than an interval per peer (at least 1 s).
  const absl::Time deadline =
      absl::Now() + std::max(interval_, absl::Seconds(1));
  peer::v1::WatchRequest request;
  request.set_api_version(kControlApiVersion);
  request.set_from_incarnation(peers_->incarnation());
  request.mutable_acked_closed()->Assign(acks.closed.begin(),
                                         acks.closed.end());
  request.set_acked_closes_lost(acks.closes_lost);
  absl::StatusOr<peer::v1::WatchResponse> watched;
  // A peer that restarted may listen on another link port than its cached
  // Hello says: once more with fresh metadata, so that a restart is known
  // in one round rather than first taken for silence.
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> peer =
        peers_->Get(address, deadline);
    if (!peer.ok()) {
      return peer.status();
    }
    watched = CallPeerWatch(**peer, request, deadline);
    if (watched.ok()) {
      if (watched->incarnation() != (*peer)->hello.incarnation()) {
        // Its cached Hello (services, link port) is the old swiftd's.
        peers_->Invalidate(address,
                           absl::StrCat("restarted (incarnation ",
                                        watched->incarnation(), " now)"));
      }
      return watched;
    }
    if (!PeerMayNotHaveHeard(watched.status())) {
      return watched;
    }
    peers_->Invalidate(address, std::string(watched.status().message()));
  }
  return watched;
}

void PeerWatcher::WatchNow() {
  absl::MutexLock round(&round_mu_);
  const std::vector<std::string> targets = targets_();
  absl::flat_hash_map<std::string, Acks> next_acks;
  for (const std::string& address : targets) {
    Acks& acks = acks_[address];
    absl::StatusOr<peer::v1::WatchResponse> watched = Watch(address, acks);
    if (watched.ok()) {
      Acks received;
      received.closed.assign(watched->closed().begin(),
                             watched->closed().end());
      received.closes_lost = watched->closes_lost();
      next_acks[address] = std::move(received);
    } else {
      // Unheard: acknowledged again next time.
      next_acks[address] = acks;
      LOG_EVERY_N(WARNING, 30)
          << "Watching swiftd on " << address << ": " << watched.status();
    }
    watched_(address, watched);
  }
  // Peers no longer watched are forgotten: nothing is owed to them.
  acks_ = std::move(next_acks);
  absl::MutexLock lock(&mu_);
  ++rounds_;
}

}  // namespace swift
