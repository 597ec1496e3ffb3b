// libswift's Client: ControlClient (client/control/control_client.h) behind
// swift/client.h's plain types. See swift/client.h for the contract.
#include <memory>
#include <utility>

#include "client/control/control_client.h"
#include "client/proto_convert.h"
#include "swift/client.h"

namespace swift {
namespace {

// Converts on the way in and out; the statuses pass through unchanged.
class ClientImpl final : public Client {
 public:
  explicit ClientImpl(std::unique_ptr<ControlClient> control)
      : control_(std::move(control)) {}

  absl::StatusOr<DaemonStatus> GetStatus() override {
    absl::StatusOr<v1::GetStatusResponse> response = control_->GetStatus();
    if (!response.ok()) return response.status();
    return DaemonStatusFromProto(*response);
  }

  absl::Status Ping(uint64_t sequence, Transport transport) override {
    return control_->Ping(sequence, transport);
  }

  absl::StatusOr<RegisteredFunction> RegisterFunction(
      const FunctionSpec& spec) override {
    absl::StatusOr<v1::RegisterFunctionResponse> response =
        control_->RegisterFunction(FunctionSpecToProto(spec));
    if (!response.ok()) return response.status();
    return RegisteredFunctionFromProto(*response);
  }

  absl::StatusOr<UnregisteredFunction> UnregisterFunction(
      const std::string& name) override {
    absl::StatusOr<v1::UnregisterFunctionResponse> response =
        control_->UnregisterFunction(name);
    if (!response.ok()) return response.status();
    return UnregisteredFunctionFromProto(*response);
  }

  absl::StatusOr<InvokeResult> Invoke(const Invocation& invocation) override {
    absl::StatusOr<v1::InvokeResponse> response =
        control_->Invoke(InvocationToProto(invocation));
    if (!response.ok()) return response.status();
    return InvokeResultFromProto(*response);
  }

  bool has_fast_path() const override { return control_->has_fast_path(); }
  uint64_t client_id() const override { return control_->client_id(); }

 private:
  const std::unique_ptr<ControlClient> control_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<ControlClient>> control =
      ControlClient::Connect(options);
  if (!control.ok()) return control.status();
  return std::unique_ptr<Client>(
      std::make_unique<ClientImpl>(*std::move(control)));
}

}  // namespace swift
