// Provider doorbell classification, the netlink reply parser, and the
// argument checks of the doorbell and the sender (no device needed).
#include "daemon/worker/fork/provider_doorbell.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <rdma/ib_user_ioctl_verbs.h>
#include <rdma/rdma_netlink.h>

#include <cstring>
#include <string>

#include "daemon/worker/fork/fork_safe_sender.h"

namespace swift {
namespace {

TEST(ClassifyDoorbellTest, WriteCommandProvidersAreRxeAndSiw) {
  EXPECT_EQ(ClassifyDoorbell(RDMA_DRIVER_RXE, ""), DoorbellKind::kWriteCommand);
  EXPECT_EQ(ClassifyDoorbell(RDMA_DRIVER_SIW, ""), DoorbellKind::kWriteCommand);
}

TEST(ClassifyDoorbellTest, HardwareProvidersRingByMmio) {
  for (uint32_t id :
       {RDMA_DRIVER_MLX5, RDMA_DRIVER_MLX4, RDMA_DRIVER_BNXT_RE,
        RDMA_DRIVER_EFA, RDMA_DRIVER_IRDMA, RDMA_DRIVER_HNS, RDMA_DRIVER_ERDMA,
        RDMA_DRIVER_CXGB4, RDMA_DRIVER_QEDR, RDMA_DRIVER_VMW_PVRDMA}) {
    EXPECT_EQ(ClassifyDoorbell(id, ""), DoorbellKind::kMmio)
        << DriverIdName(id);
  }
}

TEST(ClassifyDoorbellTest, PsmProvidersPostThroughTheKernel) {
  EXPECT_EQ(ClassifyDoorbell(RDMA_DRIVER_HFI1, ""),
            DoorbellKind::kKernelCommand);
  EXPECT_EQ(ClassifyDoorbell(RDMA_DRIVER_QIB, ""),
            DoorbellKind::kKernelCommand);
}

TEST(ClassifyDoorbellTest, SysfsDriverDecidesWhenTheKernelGivesNoId) {
  // mlx5 and mthca bind by PCI id and publish no driver id.
  EXPECT_EQ(ClassifyDoorbell(std::nullopt, "mlx5_core"), DoorbellKind::kMmio);
  EXPECT_EQ(ClassifyDoorbell(std::nullopt, "ib_mthca"), DoorbellKind::kMmio);
  EXPECT_EQ(ClassifyDoorbell(RDMA_DRIVER_UNKNOWN, "mlx4_core"),
            DoorbellKind::kMmio);
  EXPECT_EQ(ClassifyDoorbell(std::nullopt, "hfi1"),
            DoorbellKind::kKernelCommand);
}

TEST(ClassifyDoorbellTest, DriverIdWinsOverTheSysfsDriver) {
  EXPECT_EQ(ClassifyDoorbell(RDMA_DRIVER_RXE, "mlx5_core"),
            DoorbellKind::kWriteCommand);
}

TEST(ClassifyDoorbellTest, UnknownProvidersAreUnknown) {
  EXPECT_EQ(ClassifyDoorbell(std::nullopt, ""), DoorbellKind::kUnknown);
  EXPECT_EQ(ClassifyDoorbell(std::nullopt, "some_new_nic"),
            DoorbellKind::kUnknown);
  EXPECT_EQ(ClassifyDoorbell(RDMA_DRIVER_USNIC, ""), DoorbellKind::kUnknown);
  EXPECT_EQ(ClassifyDoorbell(999, ""), DoorbellKind::kUnknown);
}

TEST(ClassifyDoorbellTest, NamesReadAsWords) {
  EXPECT_EQ(DriverIdName(RDMA_DRIVER_RXE), "rxe");
  EXPECT_EQ(DriverIdName(RDMA_DRIVER_SIW), "siw");
  EXPECT_EQ(DriverIdName(RDMA_DRIVER_MLX5), "mlx5");
  EXPECT_EQ(DriverIdName(999), "driver id 999");
  EXPECT_EQ(DoorbellKindName(DoorbellKind::kWriteCommand), "write-command");
  ProviderDoorbell doorbell;
  doorbell.device = "rxe0";
  doorbell.kind = DoorbellKind::kWriteCommand;
  doorbell.evidence = "kernel driver id 14 (rxe) via RDMA netlink";
  EXPECT_EQ(doorbell.Describe(),
            "rxe0: write-command doorbell (kernel driver id 14 (rxe) via RDMA "
            "netlink)");
}

// Builds a netlink message of type GET_CHARDEV carrying `attributes`
// (type, payload) in order.
std::string NetlinkMessage(
    std::initializer_list<std::pair<uint16_t, std::string>> attributes) {
  std::string message(NLMSG_HDRLEN, '\0');
  for (const auto& [type, payload] : attributes) {
    nlattr header = {};
    header.nla_len = static_cast<uint16_t>(NLA_HDRLEN + payload.size());
    header.nla_type = type;
    std::string attribute(NLA_ALIGN(header.nla_len), '\0');
    std::memcpy(attribute.data(), &header, sizeof(header));
    std::memcpy(attribute.data() + NLA_HDRLEN, payload.data(), payload.size());
    message += attribute;
  }
  nlmsghdr header = {};
  header.nlmsg_len = static_cast<uint32_t>(message.size());
  header.nlmsg_type =
      RDMA_NL_GET_TYPE(RDMA_NL_NLDEV, RDMA_NLDEV_CMD_GET_CHARDEV);
  std::memcpy(message.data(), &header, sizeof(header));
  return message;
}

template <typename T>
std::string Bytes(T value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof(value));
}

TEST(FindUverbsDriverIdTest, FindsTheDriverIdAmongOtherAttributes) {
  const std::string message = NetlinkMessage({
      {RDMA_NLDEV_ATTR_CHARDEV_NAME, std::string("uverbs0\0", 8)},
      {RDMA_NLDEV_ATTR_CHARDEV_ABI, Bytes<uint64_t>(1)},
      {RDMA_NLDEV_ATTR_UVERBS_DRIVER_ID, Bytes<uint32_t>(RDMA_DRIVER_RXE)},
  });
  EXPECT_EQ(FindUverbsDriverId(message), RDMA_DRIVER_RXE);
}

TEST(FindUverbsDriverIdTest, AcceptsA64BitAttribute) {
  const std::string message = NetlinkMessage(
      {{RDMA_NLDEV_ATTR_UVERBS_DRIVER_ID, Bytes<uint64_t>(RDMA_DRIVER_SIW)}});
  EXPECT_EQ(FindUverbsDriverId(message), RDMA_DRIVER_SIW);
}

TEST(FindUverbsDriverIdTest, NoAttributeOrMalformedMessageGivesNothing) {
  EXPECT_EQ(FindUverbsDriverId(NetlinkMessage(
                {{RDMA_NLDEV_ATTR_CHARDEV_ABI, Bytes<uint64_t>(1)}})),
            std::nullopt);
  EXPECT_EQ(FindUverbsDriverId(""), std::nullopt);
  std::string truncated = NetlinkMessage(
      {{RDMA_NLDEV_ATTR_UVERBS_DRIVER_ID, Bytes<uint32_t>(RDMA_DRIVER_RXE)}});
  truncated.resize(truncated.size() - 2);  // Shorter than nlmsg_len says.
  EXPECT_EQ(FindUverbsDriverId(truncated), std::nullopt);
  // An attribute claiming to run past the message.
  std::string overlong = NetlinkMessage(
      {{RDMA_NLDEV_ATTR_UVERBS_DRIVER_ID, Bytes<uint32_t>(RDMA_DRIVER_RXE)}});
  overlong[NLMSG_HDRLEN] = static_cast<char>(0x40);
  EXPECT_EQ(FindUverbsDriverId(overlong), std::nullopt);
}

TEST(DoorbellArgumentsTest, NullObjectsAreInvalidArguments) {
  EXPECT_EQ(DetectDoorbell(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RingSendDoorbellByIoctl(nullptr, RDMA_DRIVER_RXE).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ForkSafeSender::Create(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ForkSafeSender::Create(nullptr, ProviderDoorbell()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swift
