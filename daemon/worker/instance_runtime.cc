// InstanceRuntime implementation; see instance_runtime.h.
#include "daemon/worker/instance_runtime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/worker/fork/fork_support.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

int ErrnoFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kPermissionDenied:
      return EACCES;
    case absl::StatusCode::kFailedPrecondition:
      return EPERM;
    case absl::StatusCode::kInvalidArgument:
      return EINVAL;
    case absl::StatusCode::kResourceExhausted:
      return ENOMEM;
    default:
      return EIO;
  }
}

// How much of a failing function's result becomes its error's text.
constexpr size_t kMaxErrorTextBytes = 256;

double MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(
             std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<InstanceRuntime>> InstanceRuntime::Create(
    swift_function_fn function, const std::vector<Connection*>& connections,
    const ProviderDoorbell& doorbell,
    absl::flat_hash_set<uint32_t> shared_lkeys) {
  std::unique_ptr<InstanceRuntime> runtime(new InstanceRuntime());
  runtime->function_ = function;
  runtime->shared_lkeys_ = std::move(shared_lkeys);
  runtime->result_.resize(kMaxResultBytes);
  for (Connection* connection : connections) {
    absl::StatusOr<ForkSafeSender> sender =
        ForkSafeSender::Create(connection->qp(), doorbell);
    if (!sender.ok()) {
      return sender.status();
    }
    runtime->senders_.push_back(*std::move(sender));
    swift_connection_view view = {};
    view.qp = connection->qp();
    view.cq = connection->cq();
    view.mr = connection->mr();
    view.buffer = connection->buffer();
    view.buffer_size = connection->buffer_size();
    view.remote_addr = connection->remote().addr;
    view.remote_length = connection->remote().length;
    view.remote_rkey = connection->remote().rkey;
    runtime->views_.push_back(view);
  }
  return runtime;
}

int InstanceRuntime::PostSend(void* context, size_t connection,
                              ibv_send_wr* wr) {
  auto* self = static_cast<InstanceRuntime*>(context);
  if (connection >= self->senders_.size() || wr == nullptr) {
    self->last_error_ = absl::StrCat("post_send: no connection ", connection,
                                     " (", self->senders_.size(), " exist)");
    return EINVAL;
  }
  // Every local buffer must be MAP_SHARED: a forked instance's copy of
  // private memory is a snapshot the NIC never sees. Checked once per MR.
  for (ibv_send_wr* request = wr; request != nullptr; request = request->next) {
    for (int i = 0; i < request->num_sge; ++i) {
      const ibv_sge& sge = request->sg_list[i];
      if (self->shared_lkeys_.contains(sge.lkey)) {
        continue;
      }
      absl::Status shared = CheckSharedMemory(
          reinterpret_cast<const void*>(sge.addr), sge.length);
      if (!shared.ok()) {
        self->last_error_ = std::string(shared.message());
        return EPERM;
      }
      self->shared_lkeys_.insert(sge.lkey);
    }
  }
  absl::Status posted = self->senders_[connection].PostSend(*wr);
  if (!posted.ok()) {
    self->last_error_ = std::string(posted.message());
    return ErrnoFor(posted);
  }
  return 0;
}

const char* InstanceRuntime::LastError(void* context) {
  return static_cast<InstanceRuntime*>(context)->last_error_.c_str();
}

worker::v1::InvokeReply InstanceRuntime::Run(
    const worker::v1::InvokeRequest& request) {
  size_t result_size = 0;
  swift_invocation invocation = {};
  invocation.payload =
      reinterpret_cast<const uint8_t*>(request.payload().data());
  invocation.payload_size = request.payload().size();
  invocation.connections = views_.data();
  invocation.connection_count = views_.size();
  invocation.post_send = &InstanceRuntime::PostSend;
  invocation.last_error = &InstanceRuntime::LastError;
  invocation.context = this;
  invocation.result = result_.data();
  invocation.result_capacity = result_.size();
  invocation.result_size = &result_size;
  last_error_.clear();

  const auto start = std::chrono::steady_clock::now();
  const int rc = function_(&invocation);
  worker::v1::InvokeReply reply;
  reply.set_id(request.id());
  reply.set_function_us(static_cast<uint64_t>(MicrosSince(start)));
  if (rc != 0) {
    // A failing function may explain itself in its result.
    const absl::string_view text(
        reinterpret_cast<const char*>(result_.data()),
        std::min({result_size, result_.size(), kMaxErrorTextBytes}));
    EncodeStatus(
        absl::AbortedError(absl::StrCat(
            "the function returned ", rc, text.empty() ? "" : ": ", text,
            last_error_.empty() ? "" : absl::StrCat(" (", last_error_, ")"))),
        &reply);
    return reply;
  }
  if (result_size > result_.size()) {
    EncodeStatus(absl::OutOfRangeError(absl::StrCat(
                     "the function claims a result of ", result_size,
                     " bytes; the limit is ", result_.size())),
                 &reply);
    return reply;
  }
  reply.set_result(result_.data(), result_size);
  return reply;
}

}  // namespace swift
