// PeerCallSigner implementation; see peer_call_signer.h.
#include "daemon/broker/peer_call_signer.h"

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/interceptor.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "glog/logging.h"
#include "proto/peer.pb.h"

namespace swift {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;

// The request about to be sent, as a `Request`: the object the stub was
// given, or (when an earlier interceptor serialized it already) a copy
// parsed back into `owned`. Null when neither works.
template <typename Request>
const google::protobuf::Message* Outgoing(
    InterceptorBatchMethods* methods,
    std::unique_ptr<google::protobuf::Message>* owned) {
  if (const void* message = methods->GetSendMessage(); message != nullptr) {
    return static_cast<const Request*>(message);
  }
  grpc::ByteBuffer* buffer = methods->GetSerializedSendMessage();
  std::vector<grpc::Slice> slices;
  if (buffer == nullptr || !buffer->Dump(&slices).ok()) {
    return nullptr;
  }
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  auto parsed = std::make_unique<Request>();
  if (!parsed->ParseFromString(bytes)) {
    return nullptr;
  }
  *owned = std::move(parsed);
  return owned->get();
}

class SigningInterceptor final : public grpc::experimental::Interceptor {
 public:
  SigningInterceptor(const PeerAuthenticator* authenticator, std::string method)
      : authenticator_(authenticator), method_(std::move(method)) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    // A unary call sends its metadata and its message in one batch.
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      Sign(methods);
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE)) {
      reply_ = methods->GetRecvMessage();
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_STATUS)) {
      grpc::Status* status = methods->GetRecvStatus();
      if (status != nullptr && status->ok()) {
        if (absl::Status proven =
                CheckReply(methods->GetRecvTrailingMetadata());
            !proven.ok()) {
          *status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                 std::string(proven.message()));
        }
      }
    }
    methods->Proceed();
  }

 private:
  void Sign(InterceptorBatchMethods* methods) {
    std::unique_ptr<google::protobuf::Message> owned;
    const google::protobuf::Message* request = nullptr;
    if (method_ == kPeerHelloMethod) {
      request = Outgoing<peer::v1::HelloRequest>(methods, &owned);
    } else if (method_ == kPeerConnectMethod) {
      request = Outgoing<peer::v1::ConnectRequest>(methods, &owned);
    } else if (method_ == kPeerCloseMethod) {
      request = Outgoing<peer::v1::CloseRequest>(methods, &owned);
    } else if (method_ == kPeerWatchMethod) {
      request = Outgoing<peer::v1::WatchRequest>(methods, &owned);
    }
    if (request == nullptr) {
      LOG_EVERY_N(WARNING, 100)
          << "Not signing a call to " << method_
          << ": not a Peer API request; the peer will refuse it";
      return;
    }
    peer::v1::PeerCredential credential =
        authenticator_->Sign(method_, *request);
    nonce_ = credential.nonce();
    signed_ = true;
    methods->GetSendInitialMetadata()->emplace(kPeerCredentialMetadata,
                                               credential.SerializeAsString());
  }

  // OK when the successful answer carries the peer's proof (its MAC in
  // `trailers`, over the reply and our nonce).
  absl::Status CheckReply(
      std::multimap<grpc::string_ref, grpc::string_ref>* trailers) const {
    const google::protobuf::Message* reply = nullptr;
    if (reply_ != nullptr) {
      if (method_ == kPeerHelloMethod) {
        reply = static_cast<const peer::v1::HelloResponse*>(reply_);
      } else if (method_ == kPeerConnectMethod) {
        reply = static_cast<const peer::v1::ConnectResponse*>(reply_);
      } else if (method_ == kPeerCloseMethod) {
        reply = static_cast<const peer::v1::CloseResponse*>(reply_);
      } else if (method_ == kPeerWatchMethod) {
        reply = static_cast<const peer::v1::WatchResponse*>(reply_);
      }
    }
    if (!signed_ || reply == nullptr || trailers == nullptr) {
      return absl::UnauthenticatedError(
          "cannot check the peer's answer to an unsigned call");
    }
    const auto mac = trailers->find(kPeerReplyMetadata);
    if (mac == trailers->end()) {
      return absl::UnauthenticatedError(
          "the peer's answer carries no proof that it holds this cluster's "
          "secret: what answers on that address is not a swiftd of this "
          "cluster (or runs --insecure_peers)");
    }
    return authenticator_->VerifyReply(
        method_, nonce_, *reply,
        absl::string_view(mac->second.data(), mac->second.size()));
  }

  const PeerAuthenticator* const authenticator_;
  const std::string method_;
  // What the call sent and received, for CheckReply().
  bool signed_ = false;
  std::string nonce_;
  void* reply_ = nullptr;
};

}  // namespace

grpc::experimental::Interceptor* PeerCallSigner::CreateClientInterceptor(
    grpc::experimental::ClientRpcInfo* info) {
  const char* method = info->method();
  return new SigningInterceptor(authenticator_,
                                method != nullptr ? method : "");
}

}  // namespace swift
