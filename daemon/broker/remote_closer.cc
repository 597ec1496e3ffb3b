// RemoteCloser implementation; see remote_closer.h.
#include "daemon/broker/remote_closer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/thread_name.h"
#include "common/version.h"
#include "daemon/broker/peer_calls.h"
#include "daemon/broker/peer_link_client.h"
#include "glog/logging.h"

namespace swift {

RemoteCloser::RemoteCloser(PeerDirectory* peers, absl::Duration timeout,
                           absl::Duration gather)
    : peers_(peers), timeout_(timeout), gather_(gather) {
  thread_ = std::thread([this] {
    NameThisThread("sw-closer");
    Loop();
  });
}

RemoteCloser::~RemoteCloser() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void RemoteCloser::Enqueue(RemoteClose close) {
  absl::MutexLock lock(&mu_);
  queued_.push_back(std::move(close));
}

void RemoteCloser::KeepUndelivered(RemoteClose close) {
  if (close.undelivered_since == absl::Time()) {
    close.undelivered_since = absl::Now();
  }
  absl::MutexLock lock(&mu_);
  KeepLocked(std::move(close));
}

void RemoteCloser::PeerAnswered(const std::string& peer) {
  absl::MutexLock lock(&mu_);
  ReleaseLocked(peer);
}

size_t RemoteCloser::undelivered() const {
  absl::MutexLock lock(&mu_);
  return kept_.size();
}

uint64_t RemoteCloser::batches() const {
  absl::MutexLock lock(&mu_);
  return batches_;
}

void RemoteCloser::KeepLocked(RemoteClose close) {
  kept_.push_back(std::move(close));
  if (kept_.size() > kMaxKept) {
    LOG_EVERY_N(WARNING, 100)
        << "More than " << kMaxKept << " closes wait for peers to answer; "
        << "forgetting the oldest (" << kept_.front().peer
        << " will not hear of it)";
    kept_.pop_front();
  }
}

void RemoteCloser::ReleaseLocked(const std::string& peer) {
  for (auto it = kept_.begin(); it != kept_.end();) {
    if (it->peer == peer) {
      queued_.push_back(std::move(*it));
      it = kept_.erase(it);
    } else {
      ++it;
    }
  }
}

void RemoteCloser::Loop() {
  absl::Time next_retry = absl::Now() + kRetryInterval;
  // The last batch: told, its answers not read yet.
  std::vector<Telling> told;
  absl::Time collect_at = absl::InfiniteFuture();
  // No batch before this: closes gather meanwhile.
  absl::Time gather_until = absl::InfinitePast();
  while (true) {
    std::vector<RemoteClose> batch;
    bool stopping = false;
    {
      absl::MutexLock lock(&mu_);
      // Enqueue() does not wake this thread while closes gather: the
      // condition is false until the stop.
      mu_.AwaitWithDeadline(absl::Condition(&stopping_), gather_until);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queued_.empty();
      };
      mu_.AwaitWithDeadline(absl::Condition(&ready),
                            std::min(next_retry, collect_at));
      stopping = stopping_;
      if (queued_.empty() && !stopping && absl::Now() >= next_retry) {
        // Idle: try the kept ones again, in case nothing else (a connect
        // to their peer) comes to release them.
        for (RemoteClose& close : kept_) {
          queued_.push_back(std::move(close));
        }
        kept_.clear();
        next_retry = absl::Now() + kRetryInterval;
      }
      while (!queued_.empty() && batch.size() < PeerLinkClient::kMaxPipelined) {
        batch.push_back(std::move(queued_.front()));
        queued_.pop_front();
      }
    }
    // The last batch's answers first: by now they are usually in, read
    // without a wait, and their connection is free for this batch.
    for (Telling& telling : told) {
      Finish(std::move(telling));
    }
    told.clear();
    collect_at = absl::InfiniteFuture();
    if (!batch.empty()) {
      told = Tell(std::move(batch), stopping ? kShortAttempt : timeout_);
      collect_at = absl::Now() + kCollectDelay;
      gather_until = absl::Now() + gather_;
      absl::MutexLock lock(&mu_);
      ++batches_;
    } else if (stopping) {
      return;  // Nothing left to tell, nor to hear.
    }
  }
}

RemoteCloser::Telling RemoteCloser::StartTelling(
    const std::string& address, std::vector<RemoteClose> closes,
    absl::Duration timeout) {
  Telling telling;
  telling.address = address;
  telling.closes = std::move(closes);
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> peer =
      peers_->Get(address, deadline);
  if (!peer.ok()) {
    telling.closed.assign(telling.closes.size(), peer.status());
    return telling;
  }
  std::vector<peer::v1::CloseRequest> requests(telling.closes.size());
  for (size_t i = 0; i < telling.closes.size(); ++i) {
    const RemoteClose& close = telling.closes[i];
    requests[i].set_api_version(kControlApiVersion);
    requests[i].set_expected_incarnation(close.peer_incarnation);
    requests[i].set_server_connection_id(close.server_connection_id);
    requests[i].set_client_connection_id(close.abandoned_client_id);
  }
  if ((*peer)->link != nullptr) {
    std::vector<peer::v1::LinkRequest> link_requests(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      *link_requests[i].mutable_close() = std::move(requests[i]);
    }
    telling.pipeline =
        (*peer)->link->SendPipelined(std::move(link_requests), deadline);
    telling.peer = *std::move(peer);  // Its link outlives the pipeline.
    return telling;
  }
  for (const peer::v1::CloseRequest& request : requests) {
    telling.closed.push_back(CallPeerClose(**peer, request, deadline));
  }
  return telling;
}

std::vector<RemoteCloser::Telling> RemoteCloser::Tell(
    std::vector<RemoteClose> batch, absl::Duration timeout) {
  // By peer, in the order the closes came.
  std::vector<std::pair<std::string, std::vector<RemoteClose>>> by_peer;
  for (RemoteClose& close : batch) {
    auto same = std::find_if(by_peer.begin(), by_peer.end(), [&](auto& group) {
      return group.first == close.peer;
    });
    if (same == by_peer.end()) {
      by_peer.emplace_back(close.peer, std::vector<RemoteClose>());
      same = by_peer.end() - 1;
    }
    same->second.push_back(std::move(close));
  }
  std::vector<Telling> told;
  for (auto& [address, group] : by_peer) {
    told.push_back(StartTelling(address, std::move(group),
                                peers_->Troubled(address)
                                    ? std::min(timeout, kShortAttempt)
                                    : timeout));
  }
  return told;
}

void RemoteCloser::Finish(Telling telling) {
  const std::string& address = telling.address;
  std::vector<RemoteClose>& group = telling.closes;
  std::vector<absl::Status> closed = std::move(telling.closed);
  if (telling.pipeline.has_value()) {
    closed = telling.peer->link->Collect(*std::move(telling.pipeline));
    for (absl::Status& status : closed) {
      status = FromLinkStatus(status, address);
    }
  }
  bool answered = false;
  std::vector<RemoteClose> unheard;
  absl::Status unheard_status;
  for (size_t i = 0; i < group.size(); ++i) {
    peers_->CountCall(address, closed[i]);
    RemoteClose& close = group[i];
    if (!PeerMayNotHaveHeard(closed[i])) {
      answered = true;
      // (An abandoned connect the peer never completed is kNotFound:
      // nothing to close.)
      // kNotFound: its service ended it first (it closed its side or
      // went away; the peer's Watch tells, but a close may come first).
      if (!closed[i].ok() && close.abandoned_client_id == 0) {
        LOG_IF(WARNING, !absl::IsNotFound(closed[i]))
            << "Telling " << address << " that connection "
            << close.connection_id << " closed: " << closed[i];
        VLOG_IF(1, absl::IsNotFound(closed[i]))
            << "Connection " << close.connection_id << " had ended on "
            << address << " already: " << closed[i];
      }
      continue;
    }
    if (close.undelivered_since == absl::Time()) {
      close.undelivered_since = absl::Now();
    }
    if (absl::Now() - close.undelivered_since >= kRetention) {
      LOG(WARNING) << "Giving up telling " << address << " that "
                   << (close.abandoned_client_id != 0
                           ? std::string("an abandoned connect")
                           : absl::StrCat("connection ", close.connection_id))
                   << " closed: unreachable for " << kRetention;
      continue;
    }
    unheard_status = closed[i];
    unheard.push_back(std::move(close));
  }
  if (!unheard.empty()) {
    LOG(WARNING) << unheard.size() << " close(s) not heard by " << address
                 << " (" << unheard_status << "); told again once it answers";
    // As after a connect: its cached metadata (the link's port) may be
    // what is stale; the next attempt says Hello again.
    peers_->Invalidate(address, std::string(unheard_status.message()));
  }
  absl::MutexLock lock(&mu_);
  // Those kept before this batch go again now that the peer answers;
  // this batch's unheard ones wait for the next sign of life.
  if (answered) {
    ReleaseLocked(address);
  }
  for (RemoteClose& close : unheard) {
    KeepLocked(std::move(close));
  }
}

}  // namespace swift
