// EtcdClient implementation; see etcd_client.h.
#include "daemon/directory/etcd_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace swift {
namespace {

// A Range answers at most this many keys at once; 10,000 hosts are read in
// a handful of pages and no answer nears gRPC's 4 MiB message limit.
constexpr int64_t kPageSize = 1000;

absl::Status FromGrpc(const std::string& endpoint, const grpc::Status& status) {
  return absl::Status(
      static_cast<absl::StatusCode>(status.error_code()),
      absl::StrCat("etcd at ", endpoint, ": ", status.error_message()));
}

bool Unreachable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

std::string EtcdPrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(end.back() + 1);
      return end;
    }
    end.pop_back();
  }
  // Every key: etcd's "\0" range end.
  return std::string(1, '\0');
}

EtcdClient::EtcdClient(std::vector<std::string> endpoints, EtcdTls tls)
    : endpoints_(std::move(endpoints)) {
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (tls.enabled()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls.ca_pem;
    ssl.pem_cert_chain = tls.cert_pem;
    ssl.pem_private_key = tls.key_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  for (const std::string& address : endpoints_) {
    grpc::ChannelArguments arguments;
    // A member that comes back is used again within a second.
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    // Its own connections: gRPC's global pool would share one backing
    // off with every other client of the same member.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // A member that vanishes without a reset (host dead, cable out) ends
    // the watch stream within ~15 s; etcd refuses pings under 5 s apart.
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    Endpoint endpoint;
    endpoint.address = address;
    endpoint.channel =
        grpc::CreateCustomChannel(address, credentials, arguments);
    endpoint.kv = etcdserverpb::KV::NewStub(endpoint.channel);
    endpoint.lease = etcdserverpb::Lease::NewStub(endpoint.channel);
    channels_.push_back(std::move(endpoint));
  }
}

template <typename Call>
absl::Status EtcdClient::OnSomeEndpoint(absl::Time deadline, const Call& call) {
  size_t start;
  {
    absl::MutexLock lock(&mu_);
    start = current_;
  }
  const size_t count = channels_.size();
  std::vector<std::string> failures;
  for (size_t i = 0; i < count; ++i) {
    const absl::Time now = absl::Now();
    if (now >= deadline) break;
    // Each member left gets an equal share of the time left.
    const absl::Time attempt_deadline = now + (deadline - now) / (count - i);
    const size_t index = (start + i) % count;
    Endpoint& endpoint = channels_[index];
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(attempt_deadline));
    const grpc::Status status = call(endpoint, &context);
    if (status.ok()) {
      absl::MutexLock lock(&mu_);
      current_ = index;
      return absl::OkStatus();
    }
    if (!Unreachable(status.error_code())) {
      // etcd answered: another member would answer the same.
      return FromGrpc(endpoint.address, status);
    }
    failures.push_back(
        absl::StrCat(endpoint.address, ": ", status.error_message()));
  }
  if (failures.empty()) {
    return absl::DeadlineExceededError(
        "etcd: the call's deadline passed before any member was asked");
  }
  return absl::UnavailableError(
      absl::StrCat("etcd unreachable (", absl::StrJoin(failures, "; "), ")"));
}

absl::StatusOr<EtcdClient::Lease> EtcdClient::GrantLease(absl::Duration ttl,
                                                         absl::Time deadline) {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(std::max<int64_t>(
      1, absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1)))));
  etcdserverpb::LeaseGrantResponse response;
  absl::Status status = OnSomeEndpoint(
      deadline, [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.lease->LeaseGrant(context, request, &response);
      });
  if (!status.ok()) return status;
  if (!response.error().empty() || response.id() == 0) {
    return absl::InternalError(
        absl::StrCat("etcd granted no lease: ", response.error()));
  }
  return Lease{response.id(), absl::Seconds(response.ttl())};
}

absl::StatusOr<absl::Duration> EtcdClient::KeepAlive(int64_t lease,
                                                     absl::Time deadline) {
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseKeepAliveResponse response;
  absl::Status status = OnSomeEndpoint(
      deadline, [&](Endpoint& endpoint, grpc::ClientContext* context) {
        // One renewal per stream: the directory renews every third of a
        // TTL, so a stream kept open would save little and need its own
        // thread to bound each read.
        auto stream = endpoint.lease->LeaseKeepAlive(context);
        const bool sent = stream->Write(request);
        stream->WritesDone();
        const bool read = sent && stream->Read(&response);
        grpc::Status finished = stream->Finish();
        if (finished.ok() && !read) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "keep-alive stream ended without an answer");
        }
        return finished;
      });
  if (!status.ok()) return status;
  if (response.ttl() <= 0) {
    return absl::NotFoundError(
        absl::StrCat("etcd lease ", lease, " has expired or was revoked"));
  }
  return absl::Seconds(response.ttl());
}

absl::Status EtcdClient::RevokeLease(int64_t lease, absl::Time deadline) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseRevokeResponse response;
  return OnSomeEndpoint(
      deadline, [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.lease->LeaseRevoke(context, request, &response);
      });
}

absl::StatusOr<int64_t> EtcdClient::Put(const std::string& key,
                                        const std::string& value, int64_t lease,
                                        absl::Time deadline) {
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  absl::Status status = OnSomeEndpoint(
      deadline, [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.kv->Put(context, request, &response);
      });
  if (!status.ok()) return status;
  return response.header().revision();
}

absl::StatusOr<EtcdClient::Snapshot> EtcdClient::GetPrefix(
    const std::string& prefix, absl::Time deadline) {
  Snapshot snapshot;
  etcdserverpb::RangeRequest request;
  request.set_key(prefix);
  request.set_range_end(EtcdPrefixEnd(prefix));
  request.set_limit(kPageSize);
  while (true) {
    etcdserverpb::RangeResponse response;
    absl::Status status = OnSomeEndpoint(
        deadline, [&](Endpoint& endpoint, grpc::ClientContext* context) {
          return endpoint.kv->Range(context, request, &response);
        });
    if (!status.ok()) return status;
    if (snapshot.revision == 0) {
      // Later pages read the same revision: one consistent snapshot.
      snapshot.revision = response.header().revision();
      request.set_revision(snapshot.revision);
    }
    for (const etcdserverpb::KeyValue& kv : response.kvs()) {
      snapshot.kvs.push_back(
          {kv.key(), kv.value(), kv.mod_revision(), kv.lease()});
    }
    if (!response.more() || response.kvs().empty()) return snapshot;
    // The next page starts just after the last key read.
    request.set_key(response.kvs().rbegin()->key() + std::string(1, '\0'));
  }
}

absl::StatusOr<int64_t> EtcdClient::DeletePrefix(const std::string& prefix,
                                                 absl::Time deadline) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(prefix);
  request.set_range_end(EtcdPrefixEnd(prefix));
  etcdserverpb::DeleteRangeResponse response;
  absl::Status status = OnSomeEndpoint(
      deadline, [&](Endpoint& endpoint, grpc::ClientContext* context) {
        return endpoint.kv->DeleteRange(context, request, &response);
      });
  if (!status.ok()) return status;
  return response.deleted();
}

absl::StatusOr<std::unique_ptr<EtcdClient::Watch>> EtcdClient::WatchPrefix(
    const std::string& prefix, int64_t start_revision) {
  size_t start;
  {
    absl::MutexLock lock(&mu_);
    start = current_;
  }
  std::vector<std::string> failures;
  for (size_t i = 0; i < channels_.size(); ++i) {
    const size_t index = (start + i) % channels_.size();
    const Endpoint& endpoint = channels_[index];
    std::unique_ptr<Watch> watch(new Watch());
    watch->endpoint_ = endpoint.address;
    watch->stub_ = etcdserverpb::Watch::NewStub(endpoint.channel);
    // Fails at once on a member that cannot be reached, rather than
    // waiting for it to come back.
    watch->context_.set_wait_for_ready(false);
    watch->stream_ = watch->stub_->Watch(&watch->context_);
    etcdserverpb::WatchRequest request;
    etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
    create->set_key(prefix);
    create->set_range_end(EtcdPrefixEnd(prefix));
    create->set_start_revision(start_revision);
    // etcd then says now and then that nothing happened, which keeps the
    // stream's revision current.
    create->set_progress_notify(true);
    etcdserverpb::WatchResponse created;
    if (watch->stream_->Write(request) && watch->stream_->Read(&created) &&
        created.created()) {
      if (created.canceled()) {
        return absl::OutOfRangeError(
            absl::StrCat("etcd at ", endpoint.address,
                         " refused the watch: ", created.cancel_reason()));
      }
      absl::MutexLock lock(&mu_);
      current_ = index;
      return watch;
    }
    watch->Cancel();
    grpc::Status status = watch->stream_->Finish();
    watch->stream_.reset();
    failures.push_back(absl::StrCat(
        endpoint.address, ": ",
        status.ok() ? "no watch created" : status.error_message()));
  }
  return absl::UnavailableError(absl::StrCat(
      "etcd unreachable, no watch (", absl::StrJoin(failures, "; "), ")"));
}

EtcdClient::Watch::~Watch() {
  if (stream_ == nullptr) return;
  Cancel();
  etcdserverpb::WatchResponse ignored;
  while (stream_->Read(&ignored)) {
  }
  stream_->Finish().IgnoreError();
}

void EtcdClient::Watch::Cancel() {
  cancelled_ = true;
  context_.TryCancel();
}

absl::Status EtcdClient::Watch::Next(std::vector<EtcdEvent>* events,
                                     int64_t* revision) {
  events->clear();
  etcdserverpb::WatchResponse response;
  if (stream_ == nullptr || !stream_->Read(&response)) {
    grpc::Status status =
        stream_ == nullptr ? grpc::Status::CANCELLED : stream_->Finish();
    stream_.reset();
    if (cancelled_) return absl::CancelledError("watch cancelled");
    return absl::UnavailableError(
        absl::StrCat("etcd at ", endpoint_, ": the watch stream ended: ",
                     status.ok() ? "closed by etcd" : status.error_message()));
  }
  if (response.compact_revision() > 0) {
    return absl::OutOfRangeError(absl::StrCat(
        "etcd at ", endpoint_, " compacted the watched history up to revision ",
        response.compact_revision()));
  }
  if (response.canceled()) {
    return absl::UnavailableError(
        absl::StrCat("etcd at ", endpoint_,
                     " cancelled the watch: ", response.cancel_reason()));
  }
  *revision = response.header().revision();
  for (const etcdserverpb::Event& event : response.events()) {
    events->push_back({event.type() == etcdserverpb::Event::DELETE,
                       {event.kv().key(), event.kv().value(),
                        event.kv().mod_revision(), event.kv().lease()}});
  }
  return absl::OkStatus();
}

}  // namespace swift
