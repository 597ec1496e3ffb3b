// Tests for SWIFT_LOG (log.h) and its glog route (log_to_glog.h).
#include "common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common/log_to_glog.h"
#include "glog/logging.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

struct Logged {
  LogSeverity severity;
  std::string file;
  int line;
  std::string message;
};
std::vector<Logged>* captured = nullptr;

void Capture(LogSeverity severity, const char* file, int line,
             absl::string_view message) {
  captured->push_back({severity, file, line, std::string(message)});
}

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    captured = &messages_;
    previous_ = SetLogHandler(&Capture);
  }
  void TearDown() override {
    SetLogHandler(previous_);
    captured = nullptr;
  }
  std::vector<Logged> messages_;
  LogHandler previous_ = nullptr;
};

TEST_F(LogTest, TheHandlerGetsSeverityCallSiteAndTheJoinedMessage) {
  const int line = __LINE__ + 1;
  SWIFT_LOG(Warning, "leaking ", 2, " QPs: ", absl::string_view("busy"));
  ASSERT_EQ(messages_.size(), 1u);
  EXPECT_EQ(messages_[0].severity, LogSeverity::kWarning);
  EXPECT_EQ(messages_[0].file, __FILE__);
  EXPECT_EQ(messages_[0].line, line);
  EXPECT_EQ(messages_[0].message, "leaking 2 QPs: busy");
}

TEST_F(LogTest, OnceLogsTheFirstPassOnly) {
  for (int i = 0; i < 3; ++i) {
    SWIFT_LOG_ONCE(Error, "pass ", i);
  }
  ASSERT_EQ(messages_.size(), 1u);
  EXPECT_EQ(messages_[0].message, "pass 0");
  EXPECT_EQ(messages_[0].severity, LogSeverity::kError);
}

TEST(LogLineTest, NamesSeverityFileAndLine) {
  EXPECT_EQ(FormatLogLine(LogSeverity::kError, "common/verbs/cq.cc", 55,
                          "leaking CQ"),
            "swift E cq.cc:55] leaking CQ");
  EXPECT_EQ(FormatLogLine(LogSeverity::kInfo, "main.cc", 1, "up"),
            "swift I main.cc:1] up");
}

// The default handler: one line on stderr, errno left as it was.
TEST(LogDefaultTest, WritesOneLineToStderrAndKeepsErrno) {
  ASSERT_EQ(SetLogHandler(nullptr), nullptr);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const int saved_stderr = dup(STDERR_FILENO);
  ASSERT_GE(saved_stderr, 0);
  ASSERT_GE(dup2(pipe_fds[1], STDERR_FILENO), 0);
  errno = EAGAIN;
  SWIFT_LOG(Warning, "to stderr");
  const int errno_after = errno;
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  close(pipe_fds[1]);
  char text[256] = {};
  const ssize_t got = read(pipe_fds[0], text, sizeof(text) - 1);
  close(pipe_fds[0]);
  ASSERT_GT(got, 0);
  EXPECT_EQ(errno_after, EAGAIN);
  const std::string line(text, static_cast<size_t>(got));
  EXPECT_EQ(line.rfind("swift W log_test.cc:", 0), 0u) << line;
  EXPECT_EQ(line.substr(line.size() - 12), "] to stderr\n") << line;
}

class CollectingSink : public google::LogSink {
 public:
  void send(google::LogSeverity severity, const char* /*full_filename*/,
            const char* base_filename, int line,
            const google::LogMessageTime& /*time*/, const char* message,
            size_t message_len) override {
    severities.push_back(severity);
    files.push_back(base_filename);
    lines.push_back(line);
    messages.emplace_back(message, message_len);
  }
  std::vector<google::LogSeverity> severities;
  std::vector<std::string> files;
  std::vector<int> lines;
  std::vector<std::string> messages;
};

TEST(LogToGlogTest, MessagesReachGlogWithTheirSeverityAndCallSite) {
  CollectingSink sink;
  google::AddLogSink(&sink);
  RouteSwiftLogToGlog();
  const int line = __LINE__ + 1;
  SWIFT_LOG(Error, "routed ", 1);
  SWIFT_LOG(Info, "routed ", 2);
  SetLogHandler(nullptr);
  google::RemoveLogSink(&sink);
  ASSERT_EQ(sink.messages.size(), 2u);
  EXPECT_EQ(sink.messages[0], "routed 1");
  EXPECT_EQ(sink.severities[0], google::GLOG_ERROR);
  EXPECT_EQ(sink.files[0], "log_test.cc");
  EXPECT_EQ(sink.lines[0], line);
  EXPECT_EQ(sink.severities[1], google::GLOG_INFO);
}

}  // namespace
}  // namespace swift
