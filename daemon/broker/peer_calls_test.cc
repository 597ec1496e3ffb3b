// Host tests for peer_calls' status forms: a link status names the peer
// and keeps what the Broker decides on (an answer, a call that never
// left).
#include "daemon/broker/peer_calls.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "daemon/broker/peer_answer.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(FromLinkStatusTest, ARefusedDialNamesThePeerAndStaysNotReached) {
  const absl::Status named = FromLinkStatus(
      MarkNotReached(absl::UnavailableError("connect(10.0.0.1:4242): refused")),
      "10.0.0.1:17691");
  EXPECT_TRUE(absl::IsUnavailable(named)) << named;
  EXPECT_TRUE(absl::StrContains(named.message(), "swiftd on 10.0.0.1:17691"))
      << named;
  EXPECT_TRUE(absl::StrContains(named.message(), "refused")) << named;
  EXPECT_TRUE(IsNotReached(named)) << "the Broker retries such a call";
}

TEST(FromLinkStatusTest, ALostCallIsNamedAndNotMarked) {
  const absl::Status named =
      FromLinkStatus(absl::DeadlineExceededError("no answer"), "10.0.0.1:1");
  EXPECT_TRUE(absl::IsDeadlineExceeded(named));
  EXPECT_FALSE(IsNotReached(named));
  EXPECT_FALSE(IsPeerAnswer(named));
}

TEST(FromLinkStatusTest, AnAnswerStaysAnAnswer) {
  const absl::Status named = FromLinkStatus(
      MarkPeerAnswer(absl::NotFoundError("no service 'kv'")), "10.0.0.1:1");
  EXPECT_TRUE(absl::IsNotFound(named));
  EXPECT_TRUE(IsPeerAnswer(named));
  EXPECT_TRUE(absl::StrContains(named.message(), "swiftd on 10.0.0.1:1"));
}

}  // namespace
}  // namespace swift
