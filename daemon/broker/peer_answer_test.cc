// Host tests for peer_answer.h: an error a peer answered is told from a
// transport failure of the same code, on gRPC and as a marked status.
#include "daemon/broker/peer_answer.h"

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(PeerAnswerTest, AnErrorSentByThePeerIsMarkedOnArrival) {
  const absl::Status went_away =
      absl::UnavailableError("service 'kv' went away during the handshake");
  const grpc::Status sent = ToPeerGrpc(went_away);
  EXPECT_EQ(sent.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(sent.error_details().empty());
  const absl::Status received = FromPeerGrpc(sent);
  EXPECT_TRUE(absl::IsUnavailable(received));
  EXPECT_EQ(received.message(), went_away.message());
  EXPECT_TRUE(IsPeerAnswer(received));
}

TEST(PeerAnswerTest, TransportFailuresAreNotAnswers) {
  // What gRPC reports itself: no details.
  const absl::Status refused = FromPeerGrpc(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused"));
  EXPECT_TRUE(absl::IsUnavailable(refused));
  EXPECT_FALSE(IsPeerAnswer(refused));
  EXPECT_FALSE(IsPeerAnswer(FromPeerGrpc(grpc::Status(
      grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded", "junk"))));
  EXPECT_FALSE(IsPeerAnswer(absl::UnavailableError("link broken")));
  EXPECT_TRUE(FromPeerGrpc(grpc::Status::OK).ok());
  EXPECT_TRUE(ToPeerGrpc(absl::OkStatus()).ok());
}

TEST(PeerAnswerTest, MarkingKeepsCodeAndMessageAndSkipsOk) {
  const absl::Status marked =
      MarkPeerAnswer(absl::AbortedError("swiftd restarted"));
  EXPECT_TRUE(absl::IsAborted(marked));
  EXPECT_EQ(marked.message(), "swiftd restarted");
  EXPECT_TRUE(IsPeerAnswer(marked));
  EXPECT_TRUE(MarkPeerAnswer(absl::OkStatus()).ok());
  EXPECT_FALSE(IsPeerAnswer(absl::OkStatus()));
}

TEST(PeerAnswerTest, ACallThatNeverLeftIsMarkedApartFromAnswers) {
  const absl::Status refused = MarkNotReached(
      absl::UnavailableError("connect(10.0.0.1:7000): Connection refused"));
  EXPECT_TRUE(IsNotReached(refused));
  EXPECT_FALSE(IsPeerAnswer(refused));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(IsNotReached(absl::UnavailableError("link broke mid-call")));
  EXPECT_FALSE(IsNotReached(MarkPeerAnswer(absl::NotFoundError("no kv"))));
  EXPECT_TRUE(MarkNotReached(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace swift
