// Tests for --cpus: its values, and the CPUs chosen from those allowed.
#include "daemon/swiftd_cpus.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(SwiftdCpusTest, ParsesItsThreeForms) {
  EXPECT_EQ(ParseCpusSetting("all")->kind, CpusSetting::Kind::kAll);
  EXPECT_EQ(ParseCpusSetting(" auto ")->kind, CpusSetting::Kind::kAuto);
  absl::StatusOr<CpusSetting> list = ParseCpusSetting("1,3-4");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->kind, CpusSetting::Kind::kList);
  EXPECT_EQ(list->list.ToString(), "1,3-4");
}

TEST(SwiftdCpusTest, RefusesAnythingElseSayingWhatItTakes) {
  for (const char* bad : {"", "Auto", "none", "1-", "0..3"}) {
    absl::StatusOr<CpusSetting> setting = ParseCpusSetting(bad);
    ASSERT_TRUE(absl::IsInvalidArgument(setting.status())) << bad;
    EXPECT_TRUE(absl::StrContains(setting.status().message(),
                                  "must be auto, all or a CPU list"))
        << setting.status();
  }
}

TEST(SwiftdCpusTest, ChoosesFromTheAllowedCpus) {
  const CpuSet allowed = *CpuSet::Parse("2-5");
  EXPECT_FALSE(
      ChooseSwiftdCpus(*ParseCpusSetting("all"), allowed)->has_value());
  EXPECT_EQ(
      ChooseSwiftdCpus(*ParseCpusSetting("auto"), allowed)->value().ToString(),
      "2");
  EXPECT_EQ(
      ChooseSwiftdCpus(*ParseCpusSetting("3-4"), allowed)->value().ToString(),
      "3-4");
  absl::StatusOr<std::optional<CpuSet>> outside =
      ChooseSwiftdCpus(*ParseCpusSetting("1-2"), allowed);
  ASSERT_TRUE(absl::IsInvalidArgument(outside.status()));
  EXPECT_TRUE(
      absl::StrContains(outside.status().message(), "may only run on CPUs 2-5"))
      << outside.status();
}

}  // namespace
}  // namespace swift
