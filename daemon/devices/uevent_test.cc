// ParseUevent() on datagrams as the kernel sends them.
#include "daemon/devices/uevent.h"

#include <gtest/gtest.h>

#include <string>

namespace swift {
namespace {

std::string Datagram(std::initializer_list<const char*> fields) {
  std::string out;
  for (const char* field : fields) {
    out += field;
    out.push_back('\0');
  }
  return out;
}

TEST(UeventTest, ParsesAnInfinibandVerbsRemoval) {
  std::optional<Uevent> event = ParseUevent(Datagram(
      {"remove@/devices/virtual/infiniband_verbs/uverbs2", "ACTION=remove",
       "DEVPATH=/devices/virtual/infiniband_verbs/uverbs2",
       "SUBSYSTEM=infiniband_verbs", "MAJOR=231", "MINOR=194",
       "DEVNAME=infiniband/uverbs2", "SEQNUM=4242"}));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->action, "remove");
  EXPECT_EQ(event->devpath, "/devices/virtual/infiniband_verbs/uverbs2");
  EXPECT_EQ(event->subsystem, "infiniband_verbs");
  EXPECT_EQ(event->devname, "infiniband/uverbs2");
  EXPECT_TRUE(IsRdmaUevent(*event));
}

TEST(UeventTest, ParsesADeviceAddition) {
  std::optional<Uevent> event = ParseUevent(
      Datagram({"add@/devices/virtual/infiniband/rxeX", "ACTION=add",
                "DEVPATH=/devices/virtual/infiniband/rxeX",
                "SUBSYSTEM=infiniband", "NAME=rxeX", "SEQNUM=7"}));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->action, "add");
  EXPECT_TRUE(IsRdmaUevent(*event));
}

TEST(UeventTest, OtherSubsystemsAreNotRdma) {
  std::optional<Uevent> event =
      ParseUevent(Datagram({"add@/devices/virtual/net/dummy1", "ACTION=add",
                            "SUBSYSTEM=net", "INTERFACE=dummy1"}));
  ASSERT_TRUE(event.has_value());
  EXPECT_FALSE(IsRdmaUevent(*event));
}

TEST(UeventTest, RejectsUdevRebroadcastsAndGarbage) {
  EXPECT_FALSE(ParseUevent(std::string("libudev\0\xfe\xed", 10)).has_value());
  EXPECT_FALSE(ParseUevent("").has_value());
  EXPECT_FALSE(ParseUevent(Datagram({"no-at-sign", "ACTION=add"})).has_value());
  EXPECT_FALSE(ParseUevent(Datagram({"@/devices/x"})).has_value());
}

TEST(UeventTest, HeaderAloneIsEnough) {
  std::optional<Uevent> event = ParseUevent("change@/devices/virtual/x");
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->action, "change");
  EXPECT_EQ(event->devpath, "/devices/virtual/x");
  EXPECT_TRUE(event->subsystem.empty());
}

}  // namespace
}  // namespace swift
