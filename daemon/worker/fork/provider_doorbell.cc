// Provider doorbell detection and the ioctl() doorbell; see
// provider_doorbell.h.
#include "daemon/worker/fork/provider_doorbell.h"

#include <linux/netlink.h>
#include <rdma/ib_user_ioctl_cmds.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/ib_user_verbs.h>
#include <rdma/rdma_netlink.h>
#include <rdma/rdma_user_ioctl_cmds.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace swift {
namespace {

// Appends one netlink attribute to the message `nlh` heads (which must have
// room for it).
void AppendAttribute(nlmsghdr* nlh, uint16_t type, const void* data,
                     size_t length) {
  auto* attribute = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(nlh) +
                                              NLMSG_ALIGN(nlh->nlmsg_len));
  attribute->nla_type = type;
  attribute->nla_len = static_cast<uint16_t>(NLA_HDRLEN + length);
  std::memcpy(reinterpret_cast<char*>(attribute) + NLA_HDRLEN, data, length);
  nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(attribute->nla_len);
}

// The kernel drivers of PCI (or auxiliary-bus) parents of RDMA devices, for
// devices whose kernel publishes no driver id.
DoorbellKind ClassifyKernelDriver(absl::string_view driver) {
  for (absl::string_view mmio :
       {"mlx5_core", "mlx4_core", "ib_mthca", "bnxt_en", "efa", "irdma", "hns3",
        "hns_roce_hw_v2", "erdma", "cxgb4", "qede", "be2net", "vmw_pvrdma",
        "mana"}) {
    if (driver == mmio) {
      return DoorbellKind::kMmio;
    }
  }
  if (driver == "hfi1" || driver == "ib_qib") {
    return DoorbellKind::kKernelCommand;
  }
  return DoorbellKind::kUnknown;
}

// Reads the basename of `path` (a symlink); empty when it does not exist.
std::string SymlinkBasename(const std::string& path) {
  char target[PATH_MAX];
  const ssize_t length = readlink(path.c_str(), target, sizeof(target) - 1);
  if (length <= 0) {
    return "";
  }
  const std::string text(target, static_cast<size_t>(length));
  const size_t slash = text.rfind('/');
  return slash == std::string::npos ? text : text.substr(slash + 1);
}

}  // namespace

absl::string_view DoorbellKindName(DoorbellKind kind) {
  switch (kind) {
    case DoorbellKind::kMmio:
      return "mmio";
    case DoorbellKind::kKernelCommand:
      return "kernel-command";
    case DoorbellKind::kWriteCommand:
      return "write-command";
    case DoorbellKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string ProviderDoorbell::Describe() const {
  return absl::StrCat(device, ": ", DoorbellKindName(kind), " doorbell (",
                      evidence, ")");
}

std::string DriverIdName(uint32_t driver_id) {
  switch (driver_id) {
    case RDMA_DRIVER_UNKNOWN:
      return "unknown";
    case RDMA_DRIVER_MLX5:
      return "mlx5";
    case RDMA_DRIVER_MLX4:
      return "mlx4";
    case RDMA_DRIVER_CXGB3:
      return "cxgb3";
    case RDMA_DRIVER_CXGB4:
      return "cxgb4";
    case RDMA_DRIVER_MTHCA:
      return "mthca";
    case RDMA_DRIVER_BNXT_RE:
      return "bnxt_re";
    case RDMA_DRIVER_OCRDMA:
      return "ocrdma";
    case RDMA_DRIVER_NES:
      return "nes";
    case RDMA_DRIVER_IRDMA:
      return "irdma";
    case RDMA_DRIVER_VMW_PVRDMA:
      return "vmw_pvrdma";
    case RDMA_DRIVER_QEDR:
      return "qedr";
    case RDMA_DRIVER_HNS:
      return "hns";
    case RDMA_DRIVER_USNIC:
      return "usnic";
    case RDMA_DRIVER_RXE:
      return "rxe";
    case RDMA_DRIVER_HFI1:
      return "hfi1";
    case RDMA_DRIVER_QIB:
      return "qib";
    case RDMA_DRIVER_EFA:
      return "efa";
    case RDMA_DRIVER_SIW:
      return "siw";
    case RDMA_DRIVER_ERDMA:
      return "erdma";
    default:
      return absl::StrCat("driver id ", driver_id);
  }
}

DoorbellKind ClassifyDoorbell(std::optional<uint32_t> driver_id,
                              absl::string_view kernel_driver) {
  if (driver_id.has_value()) {
    switch (*driver_id) {
      case RDMA_DRIVER_RXE:
      case RDMA_DRIVER_SIW:
        return DoorbellKind::kWriteCommand;
      case RDMA_DRIVER_HFI1:
      case RDMA_DRIVER_QIB:
        return DoorbellKind::kKernelCommand;
      case RDMA_DRIVER_MLX5:
      case RDMA_DRIVER_MLX4:
      case RDMA_DRIVER_CXGB4:
      case RDMA_DRIVER_MTHCA:
      case RDMA_DRIVER_BNXT_RE:
      case RDMA_DRIVER_OCRDMA:
      case RDMA_DRIVER_IRDMA:
      case RDMA_DRIVER_VMW_PVRDMA:
      case RDMA_DRIVER_QEDR:
      case RDMA_DRIVER_HNS:
      case RDMA_DRIVER_EFA:
      case RDMA_DRIVER_ERDMA:
        return DoorbellKind::kMmio;
      default:
        break;  // RDMA_DRIVER_UNKNOWN or newer: ask sysfs.
    }
  }
  return ClassifyKernelDriver(kernel_driver);
}

std::optional<uint32_t> FindUverbsDriverId(absl::string_view message) {
  if (message.size() < NLMSG_HDRLEN) {
    return std::nullopt;
  }
  nlmsghdr header;
  std::memcpy(&header, message.data(), sizeof(header));
  if (header.nlmsg_len < NLMSG_HDRLEN || header.nlmsg_len > message.size()) {
    return std::nullopt;
  }
  size_t offset = NLMSG_HDRLEN;
  while (offset + NLA_HDRLEN <= header.nlmsg_len) {
    nlattr attribute;
    std::memcpy(&attribute, message.data() + offset, sizeof(attribute));
    if (attribute.nla_len < NLA_HDRLEN ||
        offset + attribute.nla_len > header.nlmsg_len) {
      return std::nullopt;
    }
    const size_t payload = attribute.nla_len - NLA_HDRLEN;
    const char* data = message.data() + offset + NLA_HDRLEN;
    if ((attribute.nla_type & NLA_TYPE_MASK) ==
        RDMA_NLDEV_ATTR_UVERBS_DRIVER_ID) {
      // The uapi header says u64; kernels put a u32.
      if (payload == sizeof(uint32_t)) {
        uint32_t id;
        std::memcpy(&id, data, sizeof(id));
        return id;
      }
      if (payload == sizeof(uint64_t)) {
        uint64_t id;
        std::memcpy(&id, data, sizeof(id));
        return static_cast<uint32_t>(id);
      }
      return std::nullopt;
    }
    offset += NLA_ALIGN(attribute.nla_len);
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<uint32_t>> QueryUverbsDriverId(
    uint32_t device_index) {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_RDMA));
  if (!fd.valid()) {
    return ErrnoStatus(errno, "socket(AF_NETLINK, NETLINK_RDMA)");
  }
  const timeval timeout = {1, 0};
  if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                 sizeof(timeout)) != 0) {
    return ErrnoStatus(errno, "setsockopt(NETLINK_RDMA, SO_RCVTIMEO)");
  }
  alignas(nlmsghdr) char request[256] = {};
  auto* nlh = reinterpret_cast<nlmsghdr*>(request);
  nlh->nlmsg_len = NLMSG_HDRLEN;
  nlh->nlmsg_type = RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_GET_CHARDEV);
  nlh->nlmsg_flags = NLM_F_REQUEST;
  nlh->nlmsg_seq = 1;
  AppendAttribute(nlh, RDMA_NLDEV_ATTR_DEV_INDEX, &device_index,
                  sizeof(device_index));
  constexpr char kClient[] = "uverbs";
  AppendAttribute(nlh, RDMA_NLDEV_ATTR_CHARDEV_TYPE, kClient, sizeof(kClient));
  sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd.get(), request, nlh->nlmsg_len, 0,
             reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel)) < 0) {
    return ErrnoStatus(errno, "sendto(NETLINK_RDMA, GET_CHARDEV)");
  }
  alignas(nlmsghdr) char reply[8192];
  for (;;) {
    const ssize_t got = recv(fd.get(), reply, sizeof(reply), 0);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return absl::DeadlineExceededError(
            "RDMA netlink GET_CHARDEV(uverbs): no answer within 1 s");
      }
      return ErrnoStatus(errno, "recv(NETLINK_RDMA)");
    }
    size_t length = static_cast<size_t>(got);
    for (auto* message = reinterpret_cast<nlmsghdr*>(reply);
         NLMSG_OK(message, length); message = NLMSG_NEXT(message, length)) {
      if (message->nlmsg_seq != 1) {
        continue;  // Not the answer to our request.
      }
      if (message->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(message));
        if (error->error == 0) {
          continue;  // An acknowledgement.
        }
        return ErrnoStatus(-error->error,
                           absl::StrCat("RDMA netlink GET_CHARDEV(uverbs) of "
                                        "device index ",
                                        device_index));
      }
      if (message->nlmsg_type == NLMSG_DONE) {
        return std::optional<uint32_t>();
      }
      return FindUverbsDriverId(absl::string_view(
          reinterpret_cast<const char*>(message), message->nlmsg_len));
    }
  }
}

absl::StatusOr<ProviderDoorbell> DetectDoorbell(ibv_context* context) {
  if (context == nullptr || context->device == nullptr) {
    return absl::InvalidArgumentError("DetectDoorbell: null context");
  }
  ProviderDoorbell doorbell;
  doorbell.device = ibv_get_device_name(context->device);
  std::string netlink_evidence;
  const int index = ibv_get_device_index(context->device);
  if (index < 0) {
    netlink_evidence = "libibverbs knows no kernel device index";
  } else {
    absl::StatusOr<std::optional<uint32_t>> driver_id =
        QueryUverbsDriverId(static_cast<uint32_t>(index));
    if (!driver_id.ok()) {
      netlink_evidence = std::string(driver_id.status().message());
    } else if (!driver_id->has_value()) {
      netlink_evidence = "the kernel publishes no driver id";
    } else {
      doorbell.driver_id = **driver_id;
      netlink_evidence =
          absl::StrCat("kernel driver id ", **driver_id, " (",
                       DriverIdName(**driver_id), ") via RDMA netlink");
    }
  }
  doorbell.kernel_driver = SymlinkBasename(
      absl::StrCat(context->device->ibdev_path, "/device/driver"));
  doorbell.kind = ClassifyDoorbell(doorbell.driver_id, doorbell.kernel_driver);
  doorbell.evidence =
      absl::StrCat(netlink_evidence, "; sysfs driver ",
                   doorbell.kernel_driver.empty() ? "none (virtual device)"
                                                  : doorbell.kernel_driver);
  return doorbell;
}

absl::Status RingSendDoorbellByIoctl(ibv_qp* qp, uint32_t driver_id) {
  if (qp == nullptr || qp->context == nullptr) {
    return absl::InvalidArgumentError("RingSendDoorbellByIoctl: null QP");
  }
  // The legacy POST_SEND command: no work requests, only "look at the ring".
  ib_uverbs_post_send command = {};
  command.qp_handle = qp->handle;
  command.wr_count = 0;
  command.sge_count = 0;
  command.wqe_size = sizeof(ib_uverbs_send_wr);  // The kernel's minimum.
  ib_uverbs_post_send_resp response = {};

  // ib_uverbs_ioctl_hdr ends in a flexible array of attributes, so the
  // request is laid out in a buffer rather than a struct.
  constexpr int kAttributes = 3;
  alignas(8) unsigned char request[sizeof(ib_uverbs_ioctl_hdr) +
                                   kAttributes * sizeof(ib_uverbs_attr)] = {};
  auto* header = reinterpret_cast<ib_uverbs_ioctl_hdr*>(request);
  header->length = sizeof(request);
  header->object_id = UVERBS_OBJECT_DEVICE;
  header->method_id = UVERBS_METHOD_INVOKE_WRITE;
  header->num_attrs = kAttributes;
  header->driver_id = driver_id;
  ib_uverbs_attr* attributes = header->attrs;
  attributes[0].attr_id = UVERBS_ATTR_WRITE_CMD;
  attributes[0].len = sizeof(uint64_t);
  attributes[0].data = IB_USER_VERBS_CMD_POST_SEND;  // Inline constant.
  attributes[1].attr_id = UVERBS_ATTR_CORE_IN;
  attributes[1].len = sizeof(command);
  attributes[1].data = reinterpret_cast<uintptr_t>(&command);
  attributes[2].attr_id = UVERBS_ATTR_CORE_OUT;
  attributes[2].len = sizeof(response);
  attributes[2].data = reinterpret_cast<uintptr_t>(&response);

  int rc;
  do {
    // Safe to repeat: a doorbell with nothing new in the ring is a no-op.
    rc = ioctl(qp->context->cmd_fd, RDMA_VERBS_IOCTL, request);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int error = errno;
    const std::string what = absl::StrFormat(
        "ioctl(RDMA_VERBS_IOCTL, INVOKE_WRITE POST_SEND wr_count=0) doorbell "
        "of qpn=0x%x (handle %u)",
        qp->qp_num, qp->handle);
    if (error == ENOTTY || error == EOPNOTSUPP || error == EPROTONOSUPPORT) {
      return absl::UnimplementedError(absl::StrCat(
          what,
          ": the kernel has no INVOKE_WRITE ioctl: ", std::strerror(error)));
    }
    return ErrnoStatus(error, what);
  }
  return absl::OkStatus();
}

}  // namespace swift
