// SwiftdServer implementation; see swiftd_server.h.
#include "daemon/swiftd_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <sys/stat.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/unix_socket.h"
#include "daemon/socket_path.h"
#include "glog/logging.h"

namespace swift {
namespace {

// Builds and starts a gRPC server on a Unix socket. The umask makes the
// socket file owner-only from the moment it exists; SecureSocket() then
// opens it to the configured group.
absl::StatusOr<std::unique_ptr<grpc::Server>> ListenOnUnixSocket(
    const std::string& path, grpc::Service* service) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int selected_port = 0;
  // Access control on a Unix socket is the file's mode and group; there is
  // no network peer to authenticate.
  builder.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials(),
                           &selected_port);
  builder.RegisterService(service);
  const mode_t old_umask = umask(0177);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  umask(old_umask);
  if (server == nullptr || selected_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("gRPC could not listen on unix:", path,
                     " (see the log lines above for gRPC's reason)"));
  }
  return server;
}

}  // namespace

SwiftdServer::SwiftdServer(SwiftdOptions options,
                           std::unique_ptr<DeviceCache> devices)
    : options_(std::move(options)),
      fast_path_path_(FastPathSocketPath(options_.socket_path)),
      devices_(std::move(devices)) {}

absl::StatusOr<std::unique_ptr<SwiftdServer>> SwiftdServer::Start(
    const SwiftdOptions& options) {
  SWIFT_RETURN_IF_ERROR(PrepareSocketPath(options.socket_path));
  SWIFT_RETURN_IF_ERROR(
      PrepareSocketPath(FastPathSocketPath(options.socket_path)));
  SWIFT_ASSIGN_OR_RETURN(std::unique_ptr<DeviceCache> devices,
                         DeviceCache::OpenAll());
  std::unique_ptr<SwiftdServer> swiftd(
      new SwiftdServer(options, std::move(devices)));
  swiftd->service_ = std::make_unique<ControlServiceImpl>(
      swiftd->devices_.get(), &swiftd->clients_, options.socket_path);
  SWIFT_ASSIGN_OR_RETURN(
      swiftd->server_,
      ListenOnUnixSocket(options.socket_path, swiftd->service_.get()));
  FastPathService* fast_path = &swiftd->fast_path_service_;
  absl::StatusOr<std::unique_ptr<FastPathServer>> fast_path_server =
      FastPathServer::Start(
          swiftd->fast_path_path_, options.socket_mode,
          [fast_path](const FastPathCaller& caller,
                      const v1::FastRequest& request) {
            return fast_path->Handle(caller, request);
          });
  absl::Status secured = fast_path_server.status();
  if (secured.ok()) {
    swiftd->fast_path_server_ = *std::move(fast_path_server);
    secured = SecureSocket(options.socket_path, options.socket_mode,
                           options.socket_group);
  }
  if (secured.ok()) {
    secured = SecureSocket(swiftd->fast_path_path_, options.socket_mode,
                           options.socket_group);
  }
  if (!secured.ok()) {
    swiftd->Shutdown(absl::ZeroDuration());
    return secured;
  }
  swiftd->server_->GetHealthCheckService()->SetServingStatus(true);
  LOG(INFO) << "Serving the Control API on unix:" << options.socket_path
            << " with " << swiftd->devices_->open_count() << " device(s)";
  return swiftd;
}

SwiftdServer::~SwiftdServer() { Shutdown(absl::Seconds(1)); }

void SwiftdServer::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) {
    return;
  }
  shut_down_ = true;
  if (fast_path_server_ != nullptr) {
    fast_path_server_->Shutdown();
  }
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    server_->Shutdown(std::chrono::system_clock::now() +
                      absl::ToChronoMicroseconds(grace));
    server_->Wait();
    RemoveSocket(options_.socket_path);
    LOG(INFO) << "Stopped serving on unix:" << options_.socket_path;
  }
}

}  // namespace swift
