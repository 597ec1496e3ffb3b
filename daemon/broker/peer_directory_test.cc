// Host tests for PeerDirectory against real peers on localhost (TestPeer:
// the gRPC Peer API and the lean link, no RDMA): name resolution, the
// metadata cache (hits, misses, Invalidate), incarnations across a
// restart, and an unreachable peer.
#include "daemon/broker/peer_directory.h"

#include <grpcpp/client_context.h>

#include "common/version.h"
#include "daemon/broker/test_peer.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

TEST(PeerDirectoryTest, ResolvesNamesAndAddresses) {
  PeerDirectory directory(1, "127.0.0.1:1", {{"b", "127.0.0.1:2"}});
  EXPECT_TRUE(absl::IsInvalidArgument(directory.Get("nohost", Soon()).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(directory.Get("host:notaport", Soon()).status()));
  // A named peer is listed before anyone asked for it.
  std::vector<PeerDirectory::PeerView> views = directory.List();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].name, "b");
  EXPECT_EQ(views[0].incarnation, 0u);
}

// A resolver (swiftd's cluster directory) that knows one host.
class OneHostResolver final : public HostResolver {
 public:
  OneHostResolver(std::string host, std::string address)
      : host_(std::move(host)), address_(std::move(address)) {}
  absl::StatusOr<std::string> ResolveHost(const std::string& host) override {
    if (host == host_) return address_;
    return absl::NotFoundError("no host " + host + " in the test directory");
  }
  absl::StatusOr<std::string> PickHostForService(
      const std::string& service) override {
    return host_;
  }
  std::string Describe() const override { return "test directory"; }

 private:
  const std::string host_;
  const std::string address_;
};

// Names that are neither in --peers nor addresses go to the resolver; its
// answer is a peer like any other, listed with where it came from.
TEST(PeerDirectoryTest, ResolvesOtherNamesThroughTheDirectory) {
  TestPeer remote(21, /*link=*/true);
  OneHostResolver resolver("host-r", remote.address());
  PeerDirectory directory(1, "127.0.0.1:1", {{"b", "127.0.0.1:2"}},
                          /*gate=*/nullptr, &resolver);
  absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> peer =
      directory.Get("host-r", Soon());
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ((*peer)->hello.incarnation(), 21u);
  // The resolver's own error, not "unknown host".
  absl::Status missing = directory.Get("host-z", Soon()).status();
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  bool listed = false;
  for (const PeerDirectory::PeerView& view : directory.List()) {
    if (view.name == "host-r") {
      listed = true;
      EXPECT_EQ(view.source, PeerDirectory::Source::kDirectory);
      EXPECT_EQ(view.address, remote.address());
    } else {
      EXPECT_EQ(view.source, PeerDirectory::Source::kPeersFlag) << view.name;
    }
  }
  EXPECT_TRUE(listed);
}

// A peer whose metadata was forgotten for a failure is troubled until a
// Hello works again (the closer gives it short attempts meanwhile).
TEST(PeerDirectoryTest, APeerIsTroubledFromAFailureUntilItAnswers) {
  TestPeer remote(21, /*link=*/false);
  PeerDirectory directory(1, "127.0.0.1:1", {});
  EXPECT_FALSE(directory.Troubled(remote.address()));  // Unknown.
  ASSERT_TRUE(directory.Get(remote.address(), Soon()).ok());
  EXPECT_FALSE(directory.Troubled(remote.address()));
  directory.Invalidate(remote.address(), "its host left the directory");
  EXPECT_TRUE(directory.Troubled(remote.address()));
  ASSERT_TRUE(directory.Get(remote.address(), Soon()).ok());
  EXPECT_FALSE(directory.Troubled(remote.address()));
}

// Without a directory, an unknown name says so.
TEST(PeerDirectoryTest, WithoutADirectoryAnUnknownNameSaysWhy) {
  PeerDirectory directory(1, "127.0.0.1:1", {});
  absl::Status unknown = directory.Get("host-r", Soon()).status();
  EXPECT_TRUE(absl::IsInvalidArgument(unknown)) << unknown;
  EXPECT_NE(unknown.message().find("no --directory"), std::string::npos)
      << unknown;
}

// A config reload renames peers: a new name resolves and is listed, a name
// that is gone does not resolve any more.
TEST(PeerDirectoryTest, NewNamesReplaceTheOld) {
  PeerDirectory directory(1, "127.0.0.1:1", {{"b", "127.0.0.1:2"}});
  directory.SetNames({{"c", "127.0.0.1:3"}});
  EXPECT_TRUE(absl::IsInvalidArgument(directory.Get("b", Soon()).status()));
  std::vector<PeerDirectory::PeerView> views = directory.List();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].name, "c");
  EXPECT_EQ(views[0].address, "127.0.0.1:3");
}

TEST(PeerDirectoryTest, CachesHelloUntilInvalidated) {
  TestPeer remote(/*incarnation=*/11, /*link=*/true);
  PeerDirectory directory(1, "127.0.0.1:1", {{"b", remote.address()}});
  absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> first =
      directory.Get("b", Soon());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->hello.incarnation(), 11u);
  EXPECT_EQ((*first)->address, remote.address());
  ASSERT_NE((*first)->link, nullptr);  // The peer announced its link.
  absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> second =
      directory.Get(remote.address(), Soon());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->get(), first->get());  // A hit: the same metadata.
  std::vector<PeerDirectory::PeerView> views = directory.List();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].name, "b");
  EXPECT_EQ(views[0].cache_hits, 1u);
  EXPECT_EQ(views[0].cache_misses, 1u);

  directory.Invalidate(remote.address(), "test");
  absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> third =
      directory.Get("b", Soon());
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->get(), first->get());
  EXPECT_EQ(directory.List()[0].cache_misses, 2u);
}

TEST(PeerDirectoryTest, PeerWithoutLinkIsReachedOverGrpc) {
  TestPeer remote(11, /*link=*/false);
  PeerDirectory directory(1, "127.0.0.1:1", {});
  absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> peer =
      directory.Get(remote.address(), Soon());
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ((*peer)->link, nullptr);
  EXPECT_NE((*peer)->stub, nullptr);
}

// A restarted peer keeps its cached (stale) incarnation until the caller
// learns it from a refusal (kAborted) and invalidates; then Hello again.
TEST(PeerDirectoryTest, RestartedPeerIsSeenAfterInvalidate) {
  TestPeer remote(11, /*link=*/true);
  PeerDirectory directory(1, "127.0.0.1:1", {});
  ASSERT_TRUE(directory.Get(remote.address(), Soon()).ok());
  remote.Restart(12);
  absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> cached =
      directory.Get(remote.address(), Soon());
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ((*cached)->hello.incarnation(), 11u);

  peer::v1::LinkRequest close;
  close.mutable_close()->set_api_version(kControlApiVersion);
  close.mutable_close()->set_expected_incarnation(11);
  // The link port changed with the restart: ask over gRPC's view instead.
  peer::v1::CloseResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(Soon()));
  grpc::Status refused =
      (*cached)->stub->Close(&context, close.close(), &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::ABORTED);

  directory.Invalidate(remote.address(), "restarted");
  absl::StatusOr<std::shared_ptr<const PeerDirectory::Peer>> fresh =
      directory.Get(remote.address(), Soon());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ((*fresh)->hello.incarnation(), 12u);
}

TEST(PeerDirectoryTest, UnreachablePeerIsUnavailable) {
  std::string address;
  {
    TestPeer gone(11, false);
    address = gone.address();
  }
  PeerDirectory directory(1, "127.0.0.1:1", {});
  absl::Status status =
      directory.Get(address, absl::Now() + absl::Milliseconds(300)).status();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  ASSERT_EQ(directory.List().size(), 1u);
  EXPECT_FALSE(directory.List()[0].last_error.empty());
}

}  // namespace
}  // namespace swift
