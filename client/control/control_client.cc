// ControlClient over gRPC and the fast path on swiftd's Unix sockets; see
// control_client.h.
#include "client/control/control_client.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/fast_path_client.h"
#include "client/function_channels.h"
#include "common/status_macros.h"
#include "common/unix_socket.h"
#include "common/version.h"
#include "proto/control_service.grpc.pb.h"
#include "swift/defaults.h"

namespace swift {
namespace {

absl::Status FromGrpc(const grpc::Status& status, absl::string_view call) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  if (code == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(absl::StrCat(
        call, ": swiftd is unreachable (", status.error_message(), ")"));
  }
  if (code == absl::StatusCode::kDeadlineExceeded) {
    return absl::DeadlineExceededError(
        absl::StrCat(call, ": swiftd did not answer in time"));
  }
  return absl::Status(code, absl::StrCat(call, ": ", status.error_message()));
}

// The reason, in a user's words, that nobody answers on `path`.
absl::Status ExplainUnreachable(const std::string& path) {
  absl::Status probe = ProbeUnixSocket(path);
  if (absl::IsNotFound(probe)) {
    return absl::UnavailableError(absl::StrCat(
        "swiftd is not running: no socket at ", path,
        " (start it with 'systemctl start swiftd', or pass --socket)"));
  }
  if (absl::IsUnavailable(probe)) {
    return absl::UnavailableError(
        absl::StrCat("swiftd is not running: ", path,
                     " is a stale socket left by a swiftd that exited"));
  }
  if (absl::IsPermissionDenied(probe)) {
    return absl::PermissionDeniedError(
        absl::StrCat("not allowed to connect to swiftd at ", path,
                     " (join the socket's group, see 'ls -l ", path, "')"));
  }
  if (!probe.ok()) {
    return probe;
  }
  return absl::UnavailableError(
      absl::StrCat("swiftd at ", path, " accepted but did not answer"));
}

std::string ProgramName() {
  std::ifstream comm("/proc/self/comm");
  std::string name;
  std::getline(comm, name);
  return name.empty() ? "libswift" : name;
}

std::chrono::system_clock::time_point DeadlineAfter(absl::Duration timeout) {
  return std::chrono::system_clock::now() + absl::ToChronoMicroseconds(timeout);
}

class GrpcClient final : public ControlClient {
 public:
  GrpcClient(const ClientOptions& options,
             std::shared_ptr<grpc::Channel> channel)
      : options_(options),
        stub_(v1::Control::NewStub(channel)),
        channel_(std::move(channel)) {
    header_.set_api_version(kControlApiVersion);
    header_.set_client_name(options.client_name.empty() ? ProgramName()
                                                        : options.client_name);
  }

  ~GrpcClient() override {
    if (attach_reader_ != nullptr) {
      attach_context_.TryCancel();
      // Drains the stream so Finish() below does not block.
      v1::AttachEvent ignored;
      while (attach_reader_->Read(&ignored)) {
      }
      attach_reader_->Finish();
    }
  }

  absl::Status Attach() {
    v1::AttachRequest request;
    *request.mutable_header() = header_;
    request.set_pid(getpid());
    attach_reader_ = stub_->Attach(&attach_context_, request);
    v1::AttachEvent welcome;
    // The welcome arrives at once; the stream then stays open (no deadline).
    if (!attach_reader_->Read(&welcome)) {
      grpc::Status status = attach_reader_->Finish();
      attach_reader_.reset();
      return FromGrpc(status, "Attach");
    }
    client_id_ = welcome.client_id();
    return absl::OkStatus();
  }

  absl::StatusOr<v1::GetStatusResponse> GetStatus() override {
    return Unary<v1::GetStatusRequest, v1::GetStatusResponse>(
        &v1::Control::Stub::GetStatus, "GetStatus");
  }

  absl::StatusOr<v1::ListDevicesResponse> ListDevices() override {
    return Unary<v1::ListDevicesRequest, v1::ListDevicesResponse>(
        &v1::Control::Stub::ListDevices, "ListDevices");
  }

  absl::StatusOr<v1::ListIrqsResponse> ListIrqs() override {
    return Unary<v1::ListIrqsRequest, v1::ListIrqsResponse>(
        &v1::Control::Stub::ListIrqs, "ListIrqs");
  }

  absl::StatusOr<v1::ListDirectoryResponse> ListDirectory() override {
    return Unary<v1::ListDirectoryRequest, v1::ListDirectoryResponse>(
        &v1::Control::Stub::ListDirectory, "ListDirectory");
  }

  absl::StatusOr<v1::ListPeersResponse> ListPeers() override {
    return Unary<v1::ListPeersRequest, v1::ListPeersResponse>(
        &v1::Control::Stub::ListPeers, "ListPeers");
  }

  // The tenants' objects are listed on the fast path, where swiftd knows
  // who asks (gRPC refuses these listings); a listing comes in pages of at
  // most one fast path message.
  absl::StatusOr<v1::ListServicesResponse> ListServices() override {
    return ListPaged<v1::ListServicesResponse>(
        "ListServices",
        [](v1::FastRequest& call, uint32_t offset) {
          call.mutable_list_services()->set_offset(offset);
        },
        [](v1::FastResponse& response) {
          return response.mutable_list_services();
        },
        [](v1::ListServicesResponse& page) {
          return page.mutable_services();
        });
  }

  absl::StatusOr<v1::ListConnectionsResponse> ListConnections() override {
    return ListPaged<v1::ListConnectionsResponse>(
        "ListConnections",
        [](v1::FastRequest& call, uint32_t offset) {
          call.mutable_list_connections()->set_offset(offset);
        },
        [](v1::FastResponse& response) {
          return response.mutable_list_connections();
        },
        [](v1::ListConnectionsResponse& page) {
          return page.mutable_connections();
        });
  }

  absl::StatusOr<v1::ListWorkersResponse> ListWorkers() override {
    return ListPaged<v1::ListWorkersResponse>(
        "ListWorkers",
        [](v1::FastRequest& call, uint32_t offset) {
          call.mutable_list_workers()->set_offset(offset);
        },
        [](v1::FastResponse& response) {
          return response.mutable_list_workers();
        },
        [](v1::ListWorkersResponse& page) { return page.mutable_workers(); });
  }

  absl::StatusOr<v1::ListTenantsResponse> ListTenants() override {
    return ListPaged<v1::ListTenantsResponse>(
        "ListTenants",
        [](v1::FastRequest& call, uint32_t offset) {
          call.mutable_list_tenants()->set_offset(offset);
        },
        [](v1::FastResponse& response) {
          return response.mutable_list_tenants();
        },
        [](v1::ListTenantsResponse& page) { return page.mutable_tenants(); });
  }

  // Function management is served on the fast path only (swiftd checks
  // the caller's uid there); a worker builds its RDMA resources and
  // connects before RegisterFunction answers.
  absl::StatusOr<v1::RegisterFunctionResponse> RegisterFunction(
      const v1::RegisterFunctionRequest& request) override {
    v1::FastRequest call;
    *call.mutable_register_function() = request;
    SWIFT_ASSIGN_OR_RETURN(v1::FastResponse response,
                           CallFastPath(std::move(call), "RegisterFunction"));
    return std::move(*response.mutable_register_function());
  }

  absl::StatusOr<v1::UnregisterFunctionResponse> UnregisterFunction(
      const std::string& name) override {
    v1::FastRequest call;
    call.mutable_unregister_function()->set_name(name);
    SWIFT_ASSIGN_OR_RETURN(v1::FastResponse response,
                           CallFastPath(std::move(call), "UnregisterFunction"));
    return std::move(*response.mutable_unregister_function());
  }

  absl::StatusOr<v1::InvokeResponse> Invoke(
      const v1::InvokeRequest& request) override {
    if (channels_ != nullptr && request.mode() != v1::InvokeRequest::COLD) {
      // Straight to the function's worker: swiftd only opened the channel.
      return channels_->Invoke(request);
    }
    if (fast_path_ != nullptr) {
      // gRPC adds a few hundred microseconds (milliseconds under
      // emulation) to every invocation; the fast path does not.
      v1::FastRequest call;
      *call.mutable_invoke() = request;
      SWIFT_ASSIGN_OR_RETURN(v1::FastResponse response,
                             CallFastPath(std::move(call), "Invoke"));
      return std::move(*response.mutable_invoke());
    }
    const absl::Duration function_timeout =
        request.timeout_ms() == 0 ? kDefaultCallTimeout
                                  : absl::Milliseconds(request.timeout_ms());
    return Call(&v1::Control::Stub::Invoke, request, "Invoke",
                function_timeout + absl::Seconds(60));
  }

  absl::Status Ping(uint64_t sequence, Transport transport) override {
    if (transport == Transport::kFastPath) {
      return PingOverFastPath(sequence);
    }
    v1::PingRequest request;
    *request.mutable_header() = header_;
    request.set_sequence(sequence);
    v1::PingResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(options_.call_timeout));
    grpc::Status status = stub_->Ping(&context, request, &response);
    if (!status.ok()) {
      return FromGrpc(status, "Ping");
    }
    if (response.sequence() != sequence) {
      return absl::InternalError(absl::StrCat("Ping: sent sequence ", sequence,
                                              ", swiftd echoed ",
                                              response.sequence()));
    }
    return absl::OkStatus();
  }

  uint64_t client_id() const override { return client_id_; }
  bool has_fast_path() const override { return fast_path_ != nullptr; }

  // Opens the fast path; an older swiftd without one is not an error.
  absl::Status OpenFastPath() {
    absl::StatusOr<std::unique_ptr<FastPathClient>> fast_path =
        FastPathClient::Connect(FastPathSocketPath(options_.socket_path),
                                header_.client_name(), options_.fast_path_spin);
    if (fast_path.ok()) {
      fast_path_ = *std::move(fast_path);
      channels_ = std::make_unique<FunctionChannels>(
          FastPathSocketPath(options_.socket_path), header_.client_name());
      return absl::OkStatus();
    }
    if (absl::IsNotFound(fast_path.status()) ||
        absl::IsUnavailable(fast_path.status())) {
      return absl::OkStatus();
    }
    return fast_path.status();
  }

 private:
  // One unary call whose request has only a header.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Unary(
      grpc::Status (v1::Control::Stub::*method)(grpc::ClientContext*,
                                                const Request&, Response*),
      absl::string_view name) {
    return Call(method, Request(), name, options_.call_timeout);
  }

  // One unary call with a caller-built request (the header is set here).
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::Control::Stub::*method)(grpc::ClientContext*,
                                                const Request&, Response*),
      Request request, absl::string_view name, absl::Duration timeout) {
    *request.mutable_header() = header_;
    Response response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(timeout));
    grpc::Status status = (stub_.get()->*method)(&context, request, &response);
    if (!status.ok()) {
      return FromGrpc(status, name);
    }
    return response;
  }

  // One call on the fast path; errors name `name`.
  absl::StatusOr<v1::FastResponse> CallFastPath(v1::FastRequest request,
                                                absl::string_view name) {
    if (fast_path_ == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat(name,
                       ": needs swiftd's fast path, which is not open (connect "
                       "with use_fast_path, to a swiftd that serves one)"));
    }
    absl::StatusOr<v1::FastResponse> response =
        fast_path_->Call(std::move(request));
    if (!response.ok()) {
      return absl::Status(
          response.status().code(),
          absl::StrCat(name, ": ", response.status().message()));
    }
    return response;
  }

  // A listing on the fast path, page after page: the first page's fields
  // with every page's rows. `ask` sets the call and its offset, `page`
  // finds the answer in a response, `rows` the answer's rows.
  template <typename Response, typename Ask, typename Page, typename Rows>
  absl::StatusOr<Response> ListPaged(absl::string_view name, Ask ask,
                                     Page page, Rows rows) {
    Response whole;
    uint32_t offset = 0;
    // Bounded: a listing that keeps growing must still end.
    for (int pages = 0; pages < kMaxListPages; ++pages) {
      v1::FastRequest call;
      ask(call, offset);
      SWIFT_ASSIGN_OR_RETURN(v1::FastResponse response,
                             CallFastPath(std::move(call), name));
      Response* answer = page(response);
      const int received = rows(*answer)->size();
      const uint32_t remaining = answer->remaining();
      if (pages == 0) {
        whole = std::move(*answer);
      } else {
        for (auto& row : *rows(*answer)) {
          *rows(whole)->Add() = std::move(row);
        }
      }
      if (remaining == 0 || received == 0) {
        break;
      }
      offset += static_cast<uint32_t>(received);
    }
    whole.set_remaining(0);
    return whole;
  }

  static constexpr int kMaxListPages = 1024;

  absl::Status PingOverFastPath(uint64_t sequence) {
    if (fast_path_ == nullptr) {
      return absl::FailedPreconditionError(
          "Ping: the fast path is not open (swiftd offers none?)");
    }
    v1::FastRequest request;
    request.mutable_ping()->set_sequence(sequence);
    absl::StatusOr<v1::FastResponse> response = fast_path_->Call(request);
    if (!response.ok()) {
      return response.status();
    }
    if (response->ping().sequence() != sequence) {
      return absl::InternalError(absl::StrCat("Ping: sent sequence ", sequence,
                                              ", swiftd echoed ",
                                              response->ping().sequence()));
    }
    return absl::OkStatus();
  }

  const ClientOptions options_;
  v1::RequestHeader header_;
  std::unique_ptr<v1::Control::Stub> stub_;
  std::shared_ptr<grpc::Channel> channel_;
  // The open Attach stream, if attached; read only in Attach() and the
  // destructor.
  grpc::ClientContext attach_context_;
  std::unique_ptr<grpc::ClientReader<v1::AttachEvent>> attach_reader_;
  uint64_t client_id_ = 0;
  // Null when swiftd offers no fast path.
  std::unique_ptr<FastPathClient> fast_path_;
  std::unique_ptr<FunctionChannels> channels_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ControlClient>> ControlClient::Connect(
    const ClientOptions& options) {
  const std::string& path = options.socket_path;
  if (path.empty() || path.size() > kMaxUnixSocketPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket path must be 1 to ", kMaxUnixSocketPath,
                     " bytes long, got ", path.size()));
  }
  // Ask the kernel first: it says precisely why nobody answers, where gRPC
  // would only report a failed connection after its timeout.
  if (absl::Status probe = ProbeUnixSocket(path); !probe.ok()) {
    return ExplainUnreachable(path);
  }
  grpc::ChannelArguments arguments;
  // Reconnect quickly after a swiftd restart instead of backing off for
  // seconds, as gRPC would toward a remote host.
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      "unix:" + path, grpc::InsecureChannelCredentials(), arguments);
  if (!channel->WaitForConnected(DeadlineAfter(options.connect_timeout))) {
    return ExplainUnreachable(path);
  }
  auto client = std::make_unique<GrpcClient>(options, std::move(channel));
  if (options.attach) {
    if (absl::Status status = client->Attach(); !status.ok()) {
      return status;
    }
  }
  if (options.use_fast_path) {
    if (absl::Status status = client->OpenFastPath(); !status.ok()) {
      return status;
    }
  }
  return std::unique_ptr<ControlClient>(std::move(client));
}

}  // namespace swift
