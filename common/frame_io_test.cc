// Tests for FrameReader and SendFrameBefore: frames whole, split and
// pipelined (several taken by one read); the deadlines a server and a
// caller rely on; the errors a broken or hostile peer causes.
#include "common/frame_io.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "common/tcp_frame.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

std::pair<UniqueFd, UniqueFd> StreamPair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

void WriteAll(int fd, const std::string& bytes) {
  ASSERT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

constexpr absl::Duration kLong = absl::Seconds(10);

TEST(FrameReaderTest, ReadsPipelinedFramesFromOneBuffer) {
  auto [writer, reader_fd] = StreamPair();
  WriteAll(writer.get(), EncodeFrame("one") + EncodeFrame("") +
                             EncodeFrame(std::string(300, 'x')));
  FrameReader reader(reader_fd.get());
  EXPECT_EQ(*reader.Next(absl::Now() + kLong, kLong), "one");
  // The rest came with the first recv().
  EXPECT_EQ(reader.buffered(), 4u + 4u + 300u);
  EXPECT_EQ(*reader.Next(absl::Now() + kLong, kLong), "");
  EXPECT_EQ(*reader.Next(absl::Now() + kLong, kLong), std::string(300, 'x'));
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(FrameReaderTest, AssemblesAFrameSentInPieces) {
  auto [writer, reader_fd] = StreamPair();
  const std::string payload(10000, 'p');  // Past the initial buffer, too.
  const std::string frame = EncodeFrame(payload) + EncodeFrame("next");
  std::thread trickle([&, fd = writer.get()] {
    for (size_t at = 0; at < frame.size(); at += 3001) {
      WriteAll(fd, frame.substr(at, 3001));
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  FrameReader reader(reader_fd.get());
  EXPECT_EQ(*reader.Next(absl::Now() + kLong, kLong), payload);
  EXPECT_EQ(*reader.Next(absl::Now() + kLong, kLong), "next");
  trickle.join();
}

TEST(FrameReaderTest, ASilentPeerMissesTheFirstByteDeadline) {
  auto [writer, reader_fd] = StreamPair();
  FrameReader reader(reader_fd.get());
  const absl::Time start = absl::Now();
  absl::StatusOr<std::string> frame =
      reader.Next(start + absl::Milliseconds(50), kLong);
  EXPECT_TRUE(absl::IsDeadlineExceeded(frame.status())) << frame.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
}

TEST(FrameReaderTest, APeerThatStallsMidFrameMissesTheFrameTimeout) {
  auto [writer, reader_fd] = StreamPair();
  WriteAll(writer.get(), EncodeFrame("whole").substr(0, 6));
  FrameReader reader(reader_fd.get());
  absl::StatusOr<std::string> frame =
      reader.Next(absl::Now() + kLong, absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(frame.status())) << frame.status();
}

TEST(FrameReaderTest, AClosedConnectionIsUnavailable) {
  auto [writer, reader_fd] = StreamPair();
  WriteAll(writer.get(), EncodeFrame("last") + EncodeFrame("cut").substr(0, 5));
  writer.Reset();
  FrameReader reader(reader_fd.get());
  EXPECT_EQ(*reader.Next(absl::Now() + kLong, kLong), "last");
  absl::StatusOr<std::string> frame = reader.Next(absl::Now() + kLong, kLong);
  EXPECT_TRUE(absl::IsUnavailable(frame.status())) << frame.status();
}

TEST(FrameReaderTest, RefusesAFrameOverTheLimitFromItsHeader) {
  auto [writer, reader_fd] = StreamPair();
  WriteAll(writer.get(), EncodeFrame(std::string(17, 'x')));
  FrameReader reader(reader_fd.get(), /*max_bytes=*/16);
  absl::StatusOr<std::string> frame = reader.Next(absl::Now() + kLong, kLong);
  EXPECT_TRUE(absl::IsInvalidArgument(frame.status())) << frame.status();
  EXPECT_TRUE(absl::StrContains(frame.status().message(), "limit of 16"));
}

TEST(SendFrameBeforeTest, ARoundTripThroughTheReader) {
  auto [writer, reader_fd] = StreamPair();
  ASSERT_TRUE(SendFrameBefore(writer.get(), "hello", absl::Now() + kLong).ok());
  FrameReader reader(reader_fd.get());
  EXPECT_EQ(*reader.Next(absl::InfiniteFuture(), kLong), "hello");
}

TEST(SendFrameBeforeTest, APeerThatDoesNotReadMissesTheDeadline) {
  auto [writer, reader_fd] = StreamPair();
  const int small = 4096;
  ASSERT_EQ(
      setsockopt(writer.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
      0);
  // The socket stays blocking: the deadline must hold all the same.
  const std::string big(1 << 20, 'b');
  absl::Status sent =
      SendFrameBefore(writer.get(), big, absl::Now() + absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(sent)) << sent;
}

TEST(SendFrameBeforeTest, AVanishedPeerIsUnavailable) {
  auto [writer, reader_fd] = StreamPair();
  reader_fd.Reset();
  absl::Status sent = SendFrameBefore(writer.get(), "x", absl::Now() + kLong);
  EXPECT_TRUE(absl::IsUnavailable(sent)) << sent;
}

}  // namespace
}  // namespace swift
