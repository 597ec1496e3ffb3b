// PeerDirectory implementation; see peer_directory.h.
#include "daemon/broker/peer_directory.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/version.h"
#include "daemon/broker/peer_call_signer.h"
#include "glog/logging.h"

namespace swift {
namespace {

bool LooksLikeAddress(const std::string& host) {
  const size_t colon = host.rfind(':');
  int port = 0;
  return colon != std::string::npos && colon > 0 &&
         absl::SimpleAtoi(host.substr(colon + 1), &port) && port > 0 &&
         port < 65536;
}

}  // namespace

PeerDirectory::PeerDirectory(
    uint64_t incarnation, std::string self_address,
    absl::flat_hash_map<std::string, std::string> names, PeerGate* gate,
    HostResolver* resolver)
    : incarnation_(incarnation),
      self_address_(std::move(self_address)),
      gate_(gate),
      resolver_(resolver),
      names_(std::move(names)) {}

const char* PeerDirectory::SourceName(Source source) {
  switch (source) {
    case Source::kPeersFlag:
      return "peers";
    case Source::kDirectory:
      return "directory";
    case Source::kAddress:
      return "address";
  }
  return "address";
}

absl::StatusOr<std::string> PeerDirectory::Resolve(const std::string& host,
                                                   Source* source) const {
  {
    absl::MutexLock lock(&mu_);
    auto it = names_.find(host);
    if (it != names_.end()) {
      *source = Source::kPeersFlag;
      return it->second;
    }
    if (LooksLikeAddress(host)) {
      // An address from --peers is the operator's choice too (the Broker's
      // closes name peers by address).
      *source = Source::kAddress;
      for (const auto& [name, named_address] : names_) {
        if (named_address == host) *source = Source::kPeersFlag;
      }
      return host;
    }
  }
  if (resolver_ != nullptr) {
    // From memory, never a call to the directory's store: no lock needed.
    *source = Source::kDirectory;
    return resolver_->ResolveHost(host);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown host '", host,
      "': give a peer address ip:port or a name from swiftd's --peers "
      "(swiftd has no --directory)"));
}

absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> PeerDirectory::Get(
    const std::string& host, absl::Time deadline) {
  Source source = Source::kAddress;
  absl::StatusOr<std::string> address = Resolve(host, &source);
  if (!address.ok()) {
    return address.status();
  }
  if (gate_ != nullptr) {
    // Before any entry, channel or socket: a tenant must not make swiftd
    // dial hosts outside the allow-list (nor grow the directory with them).
    // An address from --peers is the operator's choice, whatever its host;
    // the directory's are checked like a client's, so that whoever can
    // write to etcd cannot send swiftd outside the allow-list.
    if (absl::Status allowed =
            gate_->CheckDial(*address, source == Source::kPeersFlag);
        !allowed.ok()) {
      return allowed;
    }
  }
  const PeerAuthenticator* signer =
      gate_ != nullptr ? gate_->authenticator() : nullptr;
  std::shared_ptr<grpc::Channel> channel;
  {
    absl::MutexLock lock(&mu_);
    Entry& entry = entries_[*address];
    if (entry.peer != nullptr) {
      ++entry.hits;
      return entry.peer;
    }
    ++entry.misses;
    if (entry.name.empty()) {
      entry.name = host;
      entry.source = source;
    }
    if (entry.channel == nullptr) {
      grpc::ChannelArguments arguments;
      // A restarted peer should be reachable again within a second.
      arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
      arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      if (signer != nullptr) {
        std::vector<std::unique_ptr<
            grpc::experimental::ClientInterceptorFactoryInterface>>
            signers;
        signers.push_back(std::make_unique<PeerCallSigner>(signer));
        entry.channel = grpc::experimental::CreateCustomChannelWithInterceptors(
            *address, grpc::InsecureChannelCredentials(), arguments,
            std::move(signers));
      } else {
        entry.channel = grpc::CreateCustomChannel(
            *address, grpc::InsecureChannelCredentials(), arguments);
      }
    }
    channel = entry.channel;
  }

  auto peer = std::make_shared<Peer>();
  peer->address = *address;
  peer->stub = peer::v1::Peer::NewStub(channel);
  peer::v1::HelloRequest request;
  request.set_api_version(kControlApiVersion);
  request.set_incarnation(incarnation_);
  request.set_address(self_address_);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  grpc::Status status = peer->stub->Hello(&context, request, &peer->hello);
  absl::MutexLock lock(&mu_);
  Entry& entry = entries_[*address];
  if (!status.ok()) {
    entry.last_error = status.error_message();
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
        status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
      // It answers, but we may not broker with each other: say why.
      return absl::Status(
          static_cast<absl::StatusCode>(status.error_code()),
          absl::StrCat("swiftd on ", host, " (", *address,
                       "): ", status.error_message()));
    }
    return absl::UnavailableError(
        absl::StrCat("swiftd on ", host, " (", *address,
                     ") does not answer: ", status.error_message()));
  }
  entry.last_error.clear();
  entry.refreshed = absl::Now();
  if (peer->hello.link_port() != 0) {
    absl::StatusOr<HostPort> link = ParseHostPort(*address);
    if (link.ok()) {
      link->port = static_cast<uint16_t>(peer->hello.link_port());
      peer->link = std::make_unique<PeerLinkClient>(
          *link, IdlePool<UniqueFd>::Options(), signer);
    }
  }
  entry.peer = peer;
  VLOG(1) << "Peer " << *address << " incarnation "
          << peer->hello.incarnation();
  return std::shared_ptr<const Peer>(peer);
}

void PeerDirectory::Invalidate(const std::string& address,
                               const std::string& reason) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(address);
  if (it != entries_.end() && it->second.peer != nullptr) {
    LOG(INFO) << "Forgetting cached metadata of peer " << address << ": "
              << reason;
    it->second.peer = nullptr;
    it->second.last_error = reason;
  }
}

bool PeerDirectory::Troubled(const std::string& address) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(address);
  return it != entries_.end() && it->second.peer == nullptr &&
         !it->second.last_error.empty();
}

void PeerDirectory::CountCall(const std::string& address,
                              const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(address);
  if (it != entries_.end()) {
    ++it->second.calls;
    if (!status.ok()) {
      ++it->second.call_errors;
    }
  }
}

void PeerDirectory::SetNames(
    absl::flat_hash_map<std::string, std::string> names) {
  absl::MutexLock lock(&mu_);
  for (auto& [address, entry] : entries_) {
    // A cached peer is shown by its name if it has one now, else by the
    // address (a name that is gone must not be shown).
    const std::string old_name = std::exchange(entry.name, address);
    if (entry.source == Source::kPeersFlag) entry.source = Source::kAddress;
    for (const auto& [name, named_address] : names) {
      if (named_address == address) {
        entry.name = name;
        entry.source = Source::kPeersFlag;
      }
    }
    if (entry.name == address && !names_.contains(old_name)) {
      entry.name = old_name;  // It was an address a client named.
    }
  }
  names_ = std::move(names);
}

std::vector<PeerDirectory::PeerView> PeerDirectory::List() const {
  std::vector<PeerView> views;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, address] : names_) {
    if (!entries_.contains(address)) {
      PeerView view;
      view.name = name;
      view.address = address;
      view.source = Source::kPeersFlag;
      views.push_back(view);
    }
  }
  for (const auto& [address, entry] : entries_) {
    PeerView view;
    view.name = entry.name;
    view.address = address;
    view.source = entry.source;
    view.refreshed = entry.refreshed;
    view.cache_hits = entry.hits;
    view.cache_misses = entry.misses;
    view.last_error = entry.last_error;
    view.calls = entry.calls;
    view.call_errors = entry.call_errors;
    if (entry.peer != nullptr) {
      view.incarnation = entry.peer->hello.incarnation();
      for (const auto& device : entry.peer->hello.devices()) {
        view.devices.push_back(absl::StrCat(device.name(), " ", device.gid()));
      }
      view.services.assign(entry.peer->hello.services().begin(),
                           entry.peer->hello.services().end());
    }
    views.push_back(std::move(view));
  }
  return views;
}

}  // namespace swift
