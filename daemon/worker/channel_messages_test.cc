// The direct channel's edge on the host: a client's FastRequest becomes
// the worker's request (WARM or FORK, the default timeout, COLD and
// non-invocations refused), and the worker's reply becomes the client's
// FastResponse through the one mapping (ToInvokeResponse), errors named
// after the function.
#include "daemon/worker/channel_messages.h"

#include <gtest/gtest.h>

namespace swift {
namespace {

v1::FastRequest Invocation(v1::InvokeRequest::Mode mode,
                           uint32_t timeout_ms = 0) {
  v1::FastRequest request;
  request.set_call_id(12);
  request.mutable_invoke()->set_function("f");
  request.mutable_invoke()->set_mode(mode);
  request.mutable_invoke()->set_payload("echo:1");
  request.mutable_invoke()->set_timeout_ms(timeout_ms);
  return request;
}

TEST(ChannelMessagesTest, AnInvocationBecomesTheWorkersRequest) {
  absl::StatusOr<worker::v1::InvokeRequest> fork =
      FromChannelRequest(Invocation(v1::InvokeRequest::FORK, 1500));
  ASSERT_TRUE(fork.ok()) << fork.status();
  EXPECT_EQ(fork->id(), 12u);
  EXPECT_EQ(fork->mode(), worker::v1::FORK);
  EXPECT_EQ(fork->payload(), "echo:1");
  EXPECT_EQ(fork->timeout_ms(), 1500u);

  absl::StatusOr<worker::v1::InvokeRequest> warm =
      FromChannelRequest(Invocation(v1::InvokeRequest::WARM));
  ASSERT_TRUE(warm.ok()) << warm.status();
  EXPECT_EQ(warm->mode(), worker::v1::WARM);
  EXPECT_EQ(warm->timeout_ms(), 10000u) << "kDefaultCallTimeout";
}

TEST(ChannelMessagesTest, ColdAndOtherCallsAreRefused) {
  absl::StatusOr<worker::v1::InvokeRequest> cold =
      FromChannelRequest(Invocation(v1::InvokeRequest::COLD));
  EXPECT_EQ(cold.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(cold.status().message().find("go through swiftd"),
            std::string::npos);
  v1::FastRequest ping;
  ping.mutable_ping();
  EXPECT_EQ(FromChannelRequest(ping).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ChannelMessagesTest, AReplyBecomesTheInvokeResponse) {
  worker::v1::InvokeReply reply;
  reply.set_id(12);
  reply.set_result("1");
  reply.set_served_by(worker::v1::WARM);
  reply.set_instance_pid(4242);
  reply.set_function_us(5);
  reply.set_worker_us(9);
  reply.set_spare(true);
  const v1::FastResponse response = ToChannelResponse(12, reply, "f");
  EXPECT_EQ(response.call_id(), 12u);
  EXPECT_EQ(response.code(), 0);
  ASSERT_TRUE(response.has_invoke());
  EXPECT_EQ(response.invoke().result(), "1");
  EXPECT_EQ(response.invoke().served_by(), v1::InvokeRequest::WARM);
  EXPECT_EQ(response.invoke().instance_pid(), 4242);
  EXPECT_EQ(response.invoke().function_us(), 5u);
  EXPECT_EQ(response.invoke().worker_us(), 9u);
  EXPECT_EQ(response.invoke().total_us(), 9u);
  EXPECT_TRUE(response.invoke().spare());
}

TEST(ChannelMessagesTest, AFailedReplyIsTheFunctionsError) {
  worker::v1::InvokeReply reply;
  reply.set_id(12);
  reply.set_code(static_cast<int>(absl::StatusCode::kAborted));
  reply.set_message("the function returned 7");
  const v1::FastResponse response = ToChannelResponse(12, reply, "f");
  EXPECT_EQ(response.code(), static_cast<int>(absl::StatusCode::kAborted));
  EXPECT_EQ(response.message(), "function 'f': the function returned 7");
  EXPECT_FALSE(response.has_invoke());

  const v1::FastResponse malformed =
      ChannelErrorResponse(0, absl::InvalidArgumentError("malformed request"));
  EXPECT_EQ(malformed.code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(malformed.message(), "malformed request");
}

}  // namespace
}  // namespace swift
