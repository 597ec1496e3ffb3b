// PeerGate implementation; see peer_gate.h.
#include "daemon/broker/peer_gate.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace swift {

absl::StatusOr<std::unique_ptr<PeerGate>> PeerGate::Create(
    const PeerGateOptions& options) {
  std::unique_ptr<PeerAuthenticator> authenticator;
  if (!options.secret.empty()) {
    absl::StatusOr<std::unique_ptr<PeerAuthenticator>> created =
        PeerAuthenticator::Create(options.secret, options.max_skew,
                                  options.replay_capacity);
    if (!created.ok()) {
      return created.status();
    }
    authenticator = *std::move(created);
  } else if (!options.insecure) {
    return absl::FailedPreconditionError(
        "brokering with other hosts (--peer_address) needs the cluster's "
        "secret: give --peer_secret_file=FILE (create it once with "
        "head -c 32 /dev/urandom > FILE, mode 0600, the same file on every "
        "host), or --insecure_peers for tests and development only");
  }
  absl::StatusOr<PeerAllowList> allow =
      BuildAllowList(options.allow, options.named_peers);
  if (!allow.ok()) {
    return allow.status();
  }
  return std::unique_ptr<PeerGate>(new PeerGate(
      std::move(authenticator), *std::move(allow), options.log_interval));
}

absl::StatusOr<PeerAllowList> PeerGate::BuildAllowList(
    const std::vector<std::string>& allow,
    const std::vector<std::string>& named_peers) {
  absl::StatusOr<PeerAllowList> list = PeerAllowList::Parse(allow);
  if (!list.ok()) {
    return list.status();
  }
  for (const std::string& named : named_peers) {
    if (std::optional<IpAddress> ip = IpAddress::FromHostPort(named);
        ip.has_value()) {
      list->AddHost(*ip);
    }
  }
  if (list->empty()) {
    return absl::InvalidArgumentError(
        "no host may broker with this swiftd: give the peers' addresses "
        "with --peer_allow=CIDR,... or name them with --peers");
  }
  return list;
}

PeerAllowList PeerGate::allow_list() const {
  absl::MutexLock lock(&mu_);
  return allow_;
}

void PeerGate::SetAllowList(PeerAllowList allow) {
  absl::MutexLock lock(&mu_);
  allow_ = std::move(allow);
}

bool PeerGate::Allows(const IpAddress& ip) const {
  absl::MutexLock lock(&mu_);
  return allow_.Allows(ip);
}

void PeerGate::CountFor(const std::optional<IpAddress>& ip,
                        uint64_t Counters::*counter) {
  if (!ip.has_value()) {
    return;
  }
  const std::string key = ip->ToString();
  auto it = by_address_.find(key);
  if (it == by_address_.end()) {
    if (by_address_.size() >= kMaxCountedAddresses) {
      return;  // In the totals only.
    }
    it = by_address_.emplace(key, Counters()).first;
  }
  ++(it->second.*counter);
}

absl::Status PeerGate::Refuse(uint64_t Counters::*counter, absl::Status why,
                              absl::string_view what,
                              const std::optional<IpAddress>& ip) {
  absl::MutexLock lock(&mu_);
  ++(counters_.*counter);
  CountFor(ip, counter);
  const absl::Time now = absl::Now();
  if (now - last_log_ < log_interval_) {
    ++unlogged_;
    VLOG(1) << "Peer gate: refused " << what << ": " << why;
    return why;
  }
  LOG(WARNING) << "Peer gate: refused " << what << ": " << why.message()
               << " (refused so far: " << counters_.refused_address
               << " by address, " << counters_.refused_credential
               << " by credential, " << counters_.refused_replay
               << " as stale or replayed, " << counters_.refused_dial
               << " dials; " << unlogged_ << " not logged since the last line)";
  last_log_ = now;
  unlogged_ = 0;
  return why;
}

absl::Status PeerGate::Admit(absl::string_view method,
                             const google::protobuf::Message& request,
                             const peer::v1::PeerCredential* credential,
                             const std::optional<IpAddress>& peer) {
  const std::string who =
      peer.has_value() ? peer->ToString() : std::string("an unknown address");
  if (!peer.has_value() || !Allows(*peer)) {
    return Refuse(&Counters::refused_address,
                  absl::PermissionDeniedError(absl::StrCat(
                      "peer ", who,
                      " is not in this swiftd's peer allow-list "
                      "(--peer_allow, --peers)")),
                  absl::StrCat(method, " from ", who), peer);
  }
  if (authenticator_ != nullptr) {
    if (credential == nullptr) {
      return Refuse(&Counters::refused_credential,
                    absl::UnauthenticatedError(
                        "peer request without a credential: this swiftd "
                        "brokers only with swiftds holding the cluster's "
                        "secret (--peer_secret_file)"),
                    absl::StrCat(method, " from ", who), peer);
    }
    if (absl::Status mac = authenticator_->VerifyMac(method, request,
                                                     *credential);
        !mac.ok()) {
      return Refuse(&Counters::refused_credential, std::move(mac),
                    absl::StrCat(method, " from ", who), peer);
    }
    if (absl::Status fresh = authenticator_->CheckFresh(*credential);
        !fresh.ok()) {
      return Refuse(&Counters::refused_replay, std::move(fresh),
                    absl::StrCat(method, " from ", who), peer);
    }
  }
  absl::MutexLock lock(&mu_);
  ++counters_.admitted;
  CountFor(peer, &Counters::admitted);
  return absl::OkStatus();
}

absl::Status PeerGate::CheckDial(const std::string& address, bool named) {
  if (named) {
    return absl::OkStatus();
  }
  const std::optional<IpAddress> ip = IpAddress::FromHostPort(address);
  if (ip.has_value() && Allows(*ip)) {
    return absl::OkStatus();
  }
  return Refuse(&Counters::refused_dial,
                absl::PermissionDeniedError(absl::StrCat(
                    "swiftd may not broker with ", address,
                    ": not in its peer allow-list (--peer_allow, --peers)")),
                absl::StrCat("a dial to ", address), ip);
}

PeerGate::Counters PeerGate::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

PeerGate::Counters PeerGate::CountersOf(const IpAddress& ip) const {
  absl::MutexLock lock(&mu_);
  auto it = by_address_.find(ip.ToString());
  return it == by_address_.end() ? Counters() : it->second;
}

}  // namespace swift
