// Tests for swift/log.h: libswift's messages reach the application's
// function, and stderr again once it is removed.
#include "swift/log.h"

#include <string>
#include <vector>

#include "common/log.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

std::vector<std::string>* lines = nullptr;

void Collect(LogLevel level, const char* file, int line,
             absl::string_view message) {
  lines->push_back(absl::StrCat(static_cast<int>(level), " ", file, ":", line,
                                " ", message));
}

TEST(SetLogFunctionTest, MessagesGoToTheApplicationUntilItLetsGo) {
  std::vector<std::string> collected;
  lines = &collected;
  SetLogFunction(&Collect);
  SWIFT_LOG(Warning, "lease refused: ", "quota");
  LogMessage(LogSeverity::kError, "cq.cc", 7, "leaking CQ");
  SetLogFunction(nullptr);
  SWIFT_LOG(Info, "to stderr, not collected");
  lines = nullptr;
  ASSERT_EQ(collected.size(), 2u);
  EXPECT_EQ(collected[0].rfind("1 ", 0), 0u) << collected[0];
  EXPECT_NE(collected[0].find("log_test.cc:"), std::string::npos);
  EXPECT_NE(collected[0].find(" lease refused: quota"), std::string::npos);
  EXPECT_EQ(collected[1], "2 cq.cc:7 leaking CQ");
  // stderr is the handler again: SetLogHandler reports no handler set.
  EXPECT_EQ(SetLogHandler(nullptr), nullptr);
}

}  // namespace
}  // namespace swift
