// Tests for CallLane: both sides of one lane, mapped twice as swiftd and a
// client map it, and what a hostile client can do to it.
#include "common/call_lane.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace swift {
namespace {

struct Sides {
  CallLane server;
  CallLane client;
};

Sides MakeLane(UniqueFd* kept = nullptr) {
  UniqueFd for_client;
  absl::StatusOr<CallLane> server = CallLane::Create(&for_client);
  EXPECT_TRUE(server.ok()) << server.status();
  if (kept != nullptr) {
    *kept = UniqueFd(dup(for_client.get()));
  }
  absl::StatusOr<CallLane> client = CallLane::Map(std::move(for_client));
  EXPECT_TRUE(client.ok()) << client.status();
  return Sides{*std::move(server), *std::move(client)};
}

TEST(CallLaneTest, ARequestAndItsAnswerCrossOnce) {
  Sides lane = MakeLane();
  uint64_t id = 0;
  std::string request;
  EXPECT_EQ(lane.server.TakeRequest(&id, &request), CallLane::Request::kNone);

  ASSERT_TRUE(lane.client.PostRequest(7, "ping"));
  ASSERT_EQ(lane.server.TakeRequest(&id, &request), CallLane::Request::kHere);
  EXPECT_EQ(id, 7u);
  EXPECT_EQ(request, "ping");
  // Taken once only: a doorbell for it later finds nothing.
  EXPECT_EQ(lane.server.TakeRequest(&id, &request), CallLane::Request::kNone);

  std::string answer;
  EXPECT_EQ(lane.client.TakeAnswer(7, &answer), CallLane::Answer::kNotYet);
  ASSERT_TRUE(lane.server.PostAnswer(7, "pong"));
  EXPECT_EQ(lane.client.TakeAnswer(8, &answer), CallLane::Answer::kNotYet);
  ASSERT_EQ(lane.client.TakeAnswer(7, &answer), CallLane::Answer::kHere);
  EXPECT_EQ(answer, "pong");

  // The next call: an empty request is a request too; its answer went on
  // the socket.
  ASSERT_TRUE(lane.client.PostRequest(8, ""));
  ASSERT_EQ(lane.server.TakeRequest(&id, &request), CallLane::Request::kHere);
  EXPECT_EQ(id, 8u);
  EXPECT_EQ(request, "");
  lane.server.PostAnswerOnSocket(8);
  EXPECT_EQ(lane.client.TakeAnswer(8, &answer), CallLane::Answer::kOnSocket);
}

TEST(CallLaneTest, ARequestMarkedOnTheSocketIsTakenOnce) {
  Sides lane = MakeLane();
  uint64_t id = 0;
  std::string request = "untouched";
  lane.client.PostRequestOnSocket(4);
  ASSERT_EQ(lane.server.TakeRequest(&id, &request),
            CallLane::Request::kOnSocket);
  EXPECT_EQ(id, 4u);
  EXPECT_EQ(request, "untouched");
  EXPECT_EQ(lane.server.TakeRequest(&id, &request), CallLane::Request::kNone);

  // A mark swiftd did not see before the call came on the socket is not
  // taken later for a new one.
  lane.client.PostRequestOnSocket(5);
  lane.server.SocketRequestArrived(5);
  EXPECT_EQ(lane.server.TakeRequest(&id, &request), CallLane::Request::kNone);
  // Another call's arrival leaves a mark alone.
  lane.client.PostRequestOnSocket(7);
  lane.server.SocketRequestArrived(6);
  EXPECT_EQ(lane.server.TakeRequest(&id, &request),
            CallLane::Request::kOnSocket);
  EXPECT_EQ(id, 7u);
}

TEST(CallLaneTest, WhoWatchesIsSeenByTheOtherSide) {
  Sides lane = MakeLane();
  EXPECT_FALSE(lane.client.server_watching());
  EXPECT_FALSE(lane.server.client_watching());
  lane.server.set_server_watching(true);
  lane.client.set_client_watching(true);
  EXPECT_TRUE(lane.client.server_watching());
  EXPECT_TRUE(lane.server.client_watching());
  lane.server.set_server_watching(false);
  lane.client.set_client_watching(false);
  EXPECT_FALSE(lane.client.server_watching());
  EXPECT_FALSE(lane.server.client_watching());
}

TEST(CallLaneTest, WhatDoesNotFitIsRefusedAndLeavesTheSlotAlone) {
  Sides lane = MakeLane();
  const std::string full(CallLane::kSlotBytes, 'x');
  const std::string over(CallLane::kSlotBytes + 1, 'y');
  EXPECT_FALSE(lane.client.PostRequest(1, over));
  EXPECT_FALSE(lane.server.PostAnswer(1, over));
  uint64_t id = 0;
  std::string request;
  EXPECT_EQ(lane.server.TakeRequest(&id, &request), CallLane::Request::kNone);

  ASSERT_TRUE(lane.client.PostRequest(2, full));
  ASSERT_EQ(lane.server.TakeRequest(&id, &request), CallLane::Request::kHere);
  EXPECT_EQ(request, full);
  ASSERT_TRUE(lane.server.PostAnswer(2, full));
  std::string answer;
  ASSERT_EQ(lane.client.TakeAnswer(2, &answer), CallLane::Answer::kHere);
  EXPECT_EQ(answer, full);
}

TEST(CallLaneTest, TheClientCannotResizeTheMemorySwiftdReads) {
  UniqueFd kept;
  Sides lane = MakeLane(&kept);
  ASSERT_TRUE(kept.valid());
  // Shrinking would make swiftd's next read fault (SIGBUS).
  EXPECT_NE(ftruncate(kept.get(), 0), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(ftruncate(kept.get(), 2 * CallLane::kBytes), 0);
  EXPECT_NE(fcntl(kept.get(), F_ADD_SEALS, 0), 0);  // No seal taken off.
  ASSERT_TRUE(lane.client.PostRequest(3, "still here"));
  uint64_t id = 0;
  std::string request;
  ASSERT_EQ(lane.server.TakeRequest(&id, &request), CallLane::Request::kHere);
  EXPECT_EQ(request, "still here");
}

TEST(CallLaneTest, ASizePastTheSlotIsMalformedNotRead) {
  UniqueFd kept;
  Sides lane = MakeLane(&kept);
  // A hostile client writes the request slot's header itself: call id at
  // byte 128, size at 136 (CallLane::Layout).
  void* raw = mmap(nullptr, CallLane::kBytes, PROT_READ | PROT_WRITE,
                   MAP_SHARED, kept.get(), 0);
  ASSERT_NE(raw, MAP_FAILED);
  const uint64_t id_written = 9;
  const uint32_t size_written = 1u << 30;
  std::memcpy(static_cast<char*>(raw) + 136, &size_written,
              sizeof(size_written));
  std::memcpy(static_cast<char*>(raw) + 128, &id_written, sizeof(id_written));
  uint64_t id = 0;
  std::string request = "untouched";
  EXPECT_EQ(lane.server.TakeRequest(&id, &request),
            CallLane::Request::kMalformed);
  EXPECT_EQ(id, 9u);
  EXPECT_EQ(request, "untouched");
  munmap(raw, CallLane::kBytes);
}

TEST(CallLaneTest, MapRefusesMemoryThatIsNotALane) {
  UniqueFd plain(memfd_create("not-a-lane", MFD_CLOEXEC));
  ASSERT_TRUE(plain.valid());
  ASSERT_EQ(ftruncate(plain.get(), CallLane::kBytes), 0);
  absl::StatusOr<CallLane> unsealed = CallLane::Map(std::move(plain));
  EXPECT_EQ(unsealed.status().code(), absl::StatusCode::kInvalidArgument)
      << unsealed.status();

  UniqueFd small(memfd_create("small", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_TRUE(small.valid());
  ASSERT_EQ(ftruncate(small.get(), 4096), 0);
  ASSERT_EQ(fcntl(small.get(), F_ADD_SEALS,
                  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
            0);
  absl::StatusOr<CallLane> wrong_size = CallLane::Map(std::move(small));
  EXPECT_EQ(wrong_size.status().code(), absl::StatusCode::kInvalidArgument)
      << wrong_size.status();
}

}  // namespace
}  // namespace swift
