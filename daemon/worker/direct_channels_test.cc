// DirectChannels on the host, over socket pairs: a client's invocation is
// read as the worker's request and answered in the client's terms; COLD
// and malformed requests are answered with their error; a closed channel
// is dropped and a reply due on it counted but not sent; a request says
// how its instance answers the client, and a reply it answered is only
// counted.
#include "daemon/worker/direct_channels.h"

#include <gtest/gtest.h>
#include <poll.h>

#include "common/seqpacket_socket.h"
#include "proto/fast_path.pb.h"

namespace swift {
namespace {

class DirectChannelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pair = SeqpacketSocket::Pair();
    ASSERT_TRUE(pair.ok()) << pair.status();
    client_ = std::make_unique<SeqpacketSocket>(std::move(pair->first));
    worker::v1::OpenChannel open;
    open.set_client_name("test");
    open.set_client_pid(1);
    id_ = channels_.Open(open, UniqueFd(dup(pair->second.fd())));
  }

  void Send(const v1::FastRequest& request) {
    ASSERT_TRUE(client_->Send(request.SerializeAsString()).ok());
  }

  v1::FastResponse Answer() {
    v1::FastResponse response;
    absl::StatusOr<SeqpacketSocket::Message> message = client_->Receive();
    EXPECT_TRUE(message.ok()) << message.status();
    EXPECT_TRUE(message.ok() && response.ParseFromString(message->data));
    return response;
  }

  static v1::FastRequest Invocation(v1::InvokeRequest::Mode mode) {
    v1::FastRequest request;
    request.set_call_id(5);
    request.mutable_invoke()->set_function("f");
    request.mutable_invoke()->set_mode(mode);
    request.mutable_invoke()->set_payload("x");
    return request;
  }

  DirectChannels channels_;
  std::unique_ptr<SeqpacketSocket> client_;
  uint64_t id_ = 0;
};

TEST_F(DirectChannelsTest, AnInvocationIsReadAndAnsweredInTheClientsTerms) {
  EXPECT_EQ(id_, 1u) << "0 is swiftd's route";
  ASSERT_EQ(channels_.Fds().size(), 1u);
  Send(Invocation(v1::InvokeRequest::WARM));
  std::optional<worker::v1::InvokeRequest> request = channels_.Receive(id_);
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->id(), 5u);
  EXPECT_EQ(request->mode(), worker::v1::WARM);

  worker::v1::InvokeReply reply;
  reply.set_id(request->id());
  reply.set_result("done");
  channels_.Reply(id_, reply);
  v1::FastResponse response = Answer();
  EXPECT_EQ(response.call_id(), 5u);
  EXPECT_EQ(response.code(), 0);
  EXPECT_EQ(response.invoke().result(), "done");

  reply.set_code(static_cast<int>(absl::StatusCode::kInternal));
  reply.set_message("crashed");
  channels_.Reply(id_, reply);
  response = Answer();
  EXPECT_EQ(response.code(), static_cast<int>(absl::StatusCode::kInternal));
  EXPECT_EQ(response.message(), "function 'f': crashed");
  EXPECT_EQ(channels_.invocations(), 2u);
  EXPECT_EQ(channels_.failures(), 1u);
}

TEST_F(DirectChannelsTest, ARequestSaysHowItsInstanceAnswersTheClient) {
  EXPECT_EQ(channels_.fd(id_), channels_.Fds()[0].second);
  Send(Invocation(v1::InvokeRequest::FORK));
  const absl::Time read_at = absl::FromUnixSeconds(1700000000);
  std::optional<worker::v1::InvokeRequest> request =
      channels_.Receive(id_, read_at);
  ASSERT_TRUE(request.has_value());
  ASSERT_TRUE(request->has_answer_on_channel());
  EXPECT_EQ(request->answer_on_channel().function(), "f");
  EXPECT_EQ(request->answer_on_channel().received_ns(),
            absl::ToUnixNanos(read_at));

  // The instance answered: the worker only counts it.
  worker::v1::InvokeReply answered;
  answered.set_id(request->id());
  answered.set_answered(true);
  answered.set_code(static_cast<int>(absl::StatusCode::kAborted));
  channels_.Reply(id_, answered);
  pollfd nothing = {client_->fd(), POLLIN, 0};
  EXPECT_EQ(poll(&nothing, 1, 0), 0) << "nothing sent twice";
  EXPECT_EQ(channels_.invocations(), 1u);
  EXPECT_EQ(channels_.failures(), 1u);
  client_.reset();
  EXPECT_FALSE(channels_.Receive(id_).has_value());
  EXPECT_EQ(channels_.fd(id_), -1);
}

TEST_F(DirectChannelsTest, TheChannelThatForkedLastIsParkedAndNotRead) {
  EXPECT_EQ(channels_.ChannelToPark(), std::nullopt) << "nothing asked yet";
  Send(Invocation(v1::InvokeRequest::WARM));
  ASSERT_TRUE(channels_.Receive(id_).has_value());
  EXPECT_EQ(channels_.ChannelToPark(), std::nullopt) << "its last was WARM";
  Send(Invocation(v1::InvokeRequest::FORK));
  ASSERT_TRUE(channels_.Receive(id_).has_value());
  EXPECT_EQ(channels_.ChannelToPark(), std::optional<uint64_t>(id_));
  channels_.Park(id_);
  EXPECT_EQ(channels_.ChannelToPark(), std::nullopt) << "parked already";
  EXPECT_TRUE(channels_.ReadableFds().empty()) << "a spare reads it now";
  EXPECT_EQ(channels_.Fds().size(), 1u) << "still the worker's to close";
  channels_.Unpark(id_);
  EXPECT_EQ(channels_.ReadableFds().size(), 1u);
  channels_.Drop(id_);
  EXPECT_EQ(channels_.size(), 0u);
}

TEST_F(DirectChannelsTest, ColdAndMalformedRequestsAreAnsweredHere) {
  Send(Invocation(v1::InvokeRequest::COLD));
  EXPECT_FALSE(channels_.Receive(id_).has_value());
  v1::FastResponse response = Answer();
  EXPECT_EQ(response.call_id(), 5u);
  EXPECT_EQ(response.code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(response.message().rfind("function 'f': cold invocations", 0), 0u)
      << response.message();

  ASSERT_TRUE(client_->Send("\xff\xff\xff").ok());
  EXPECT_FALSE(channels_.Receive(id_).has_value());
  response = Answer();
  EXPECT_EQ(response.code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(response.message(), "malformed request");
  EXPECT_EQ(channels_.invocations(), 2u);
  EXPECT_EQ(channels_.failures(), 2u);
}

TEST_F(DirectChannelsTest, AClosedChannelIsDroppedAndItsReplyOnlyCounted) {
  Send(Invocation(v1::InvokeRequest::FORK));
  ASSERT_TRUE(channels_.Receive(id_).has_value());
  client_.reset();
  EXPECT_FALSE(channels_.Receive(id_).has_value());
  EXPECT_EQ(channels_.size(), 0u);
  worker::v1::InvokeReply reply;
  reply.set_id(5);
  channels_.Reply(id_, reply);
  EXPECT_EQ(channels_.invocations(), 1u);
  EXPECT_FALSE(channels_.Receive(id_).has_value()) << "unknown id";
}

}  // namespace
}  // namespace swift
