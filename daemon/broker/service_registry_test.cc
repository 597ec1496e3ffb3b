// Host tests for ServiceRegistry over SeqpacketSocket pairs: listening,
// advertising endpoints, taking one, refusals, closes, late (orphaned)
// answers and an application that goes away. No RDMA: endpoints are data.
#include "daemon/broker/service_registry.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/seqpacket_socket.h"
#include "common/testing/eventually.h"
#include "common/verbs/endpoint.h"
#include "daemon/broker/broker_quotas.h"
#include "daemon/broker/fake_application.h"
#include "gtest/gtest.h"
#include "proto/fast_path.pb.h"
#include "proto/wire_status.h"

namespace swift {
namespace {

verbs::QpEndpoint Client() {
  verbs::QpEndpoint endpoint;
  endpoint.qpn = 0x77;
  endpoint.psn = 0x42;
  return endpoint;
}

absl::Time Soon() { return absl::Now() + absl::Seconds(5); }

// Options that differ from the defaults in one way.
FakeApplication::Options Named(std::string service) {
  FakeApplication::Options options;
  options.service = std::move(service);
  return options;
}
FakeApplication::Options WithEndpoints(int endpoints) {
  FakeApplication::Options options;
  options.endpoints = endpoints;
  return options;
}
FakeApplication::Options Answering(absl::Status status) {
  FakeApplication::Options options;
  options.accept_status = std::move(status);
  return options;
}
FakeApplication::Options AnsweringAfter(absl::Duration delay) {
  FakeApplication::Options options;
  options.accept_delay = delay;
  return options;
}
FakeApplication::Options Silent() {
  FakeApplication::Options options;
  options.answer = false;
  return options;
}

TEST(ServiceRegistryTest, ListensAndHandsOutPooledEndpoints) {
  ServiceRegistry registry;
  FakeApplication app(&registry, {});
  ASSERT_TRUE(app.listen_status().ok()) << app.listen_status();
  EXPECT_EQ(registry.ServiceNames(), std::vector<std::string>{"echo"});

  absl::StatusOr<ServiceRegistry::Accepted> first =
      registry.Accept("echo", Client(), Soon(), "10.0.0.2");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->server_endpoint, FakeApplication::Endpoint(0));
  EXPECT_EQ(first->app_accept, absl::Microseconds(7));
  absl::StatusOr<ServiceRegistry::Accepted> second =
      registry.Accept("echo", Client(), Soon(), "10.0.0.2");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->server_endpoint, FakeApplication::Endpoint(1));
  EXPECT_NE(first->connection_id, second->connection_id);
  EXPECT_EQ(app.accepts(), 2);

  std::vector<ServiceRegistry::ServiceStats> stats = registry.Stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].owner, "fake (pid 42)");
  EXPECT_EQ(stats[0].pooled, 0);
  EXPECT_EQ(stats[0].connections, 2);
  EXPECT_EQ(stats[0].accepted, 2u);
}

TEST(ServiceRegistryTest, EmptyPoolIsResourceExhaustedUntilRefilled) {
  ServiceRegistry registry;
  FakeApplication app(&registry, WithEndpoints(1));
  ASSERT_TRUE(registry.Accept("echo", Client(), Soon(), "10.0.0.2").ok());
  EXPECT_TRUE(absl::IsResourceExhausted(
      registry.Accept("echo", Client(), Soon(), "10.0.0.2").status()));
  app.AddEndpoints(1);
  absl::StatusOr<ServiceRegistry::Accepted> refilled;
  for (int i = 0; i < 100; ++i) {  // AddEndpoints is asynchronous.
    refilled = registry.Accept("echo", Client(), Soon(), "10.0.0.2");
    if (refilled.ok()) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(refilled.ok()) << refilled.status();
  EXPECT_EQ(refilled->server_endpoint, FakeApplication::Endpoint(1));
  EXPECT_GE(registry.Stats()[0].refused, 1u);  // Each empty-pool refusal.
}

// An accept's answer carries the QP that replaces the one it took: the
// pool stays full with no AddEndpoints of its own.
TEST(ServiceRegistryTest, AnAcceptsReplacementsRefillThePool) {
  ServiceRegistry registry;
  FakeApplication::Options options = WithEndpoints(1);
  options.replacements_per_accept = 1;
  FakeApplication app(&registry, options);
  ASSERT_TRUE(app.listen_status().ok()) << app.listen_status();
  EXPECT_TRUE(app.takes_replacements());
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<ServiceRegistry::Accepted> accepted =
        registry.Accept("echo", Client(), Soon(), "10.0.0.2");
    ASSERT_TRUE(accepted.ok()) << i << ": " << accepted.status();
    EXPECT_EQ(accepted->server_endpoint, FakeApplication::Endpoint(i));
    // Added on the channel's thread just after the accept's answer.
    ASSERT_TRUE(testing::Eventually([&] {
      return registry.Stats()[0].pooled == 1;
    })) << i;
  }
  EXPECT_EQ(registry.Stats()[0].accepted, 5u);
}

TEST(ServiceRegistryTest, RefusesBadListens) {
  ServiceRegistry registry;
  FakeApplication unnamed(&registry, Named(""));
  EXPECT_TRUE(absl::IsInvalidArgument(unnamed.listen_status()));
  FakeApplication first(&registry, {});
  ASSERT_TRUE(first.listen_status().ok());
  FakeApplication second(&registry, {});
  EXPECT_TRUE(absl::IsAlreadyExists(second.listen_status()))
      << second.listen_status();
  EXPECT_TRUE(absl::IsNotFound(
      registry.Accept("nothing", Client(), Soon(), "10.0.0.2").status()));
}

TEST(ServiceRegistryTest, ApplicationErrorsReachTheCaller) {
  ServiceRegistry registry;
  FakeApplication app(
      &registry, Answering(absl::InternalError("RTR failed")));
  absl::StatusOr<ServiceRegistry::Accepted> accepted =
      registry.Accept("echo", Client(), Soon(), "10.0.0.2");
  EXPECT_EQ(accepted.status(), absl::InternalError("RTR failed"));
  EXPECT_EQ(registry.Stats()[0].refused, 1u);
  EXPECT_EQ(registry.Stats()[0].connections, 0);
}

TEST(ServiceRegistryTest, CloseTellsTheApplicationOnce) {
  ServiceRegistry registry;
  FakeApplication app(&registry, {});
  absl::StatusOr<ServiceRegistry::Accepted> accepted =
      registry.Accept("echo", Client(), Soon(), "10.0.0.2");
  ASSERT_TRUE(accepted.ok());
  // Only the peer that made it may close it (ids are sequential).
  absl::Status stolen = registry.Close(accepted->connection_id, "10.0.0.3");
  EXPECT_TRUE(absl::IsPermissionDenied(stolen)) << stolen;
  EXPECT_TRUE(app.closed_connections().empty());
  ASSERT_TRUE(registry.Close(accepted->connection_id, "10.0.0.2").ok());
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_EQ(app.closed_connections(),
            std::vector<uint64_t>{accepted->connection_id});
  EXPECT_TRUE(
      absl::IsNotFound(registry.Close(accepted->connection_id, "10.0.0.2")));
}

// A peer that calls with a new incarnation restarted: the connections its
// previous incarnation made are closed (the fault tests found a service
// keeping them for good), and nobody else's.
TEST(ServiceRegistryTest, ARestartedPeersOldConnectionsAreClosed) {
  ServiceRegistry registry;
  FakeApplication app(&registry, WithEndpoints(4));
  auto accept = [&](const std::string& peer, uint64_t incarnation) {
    absl::StatusOr<ServiceRegistry::Accepted> accepted =
        registry.Accept("echo", Client(), Soon(), peer, incarnation);
    EXPECT_TRUE(accepted.ok()) << accepted.status();
    return accepted.ok() ? accepted->connection_id : 0;
  };
  const uint64_t old1 = accept("10.0.0.2", 11);
  const uint64_t old2 = accept("10.0.0.2", 11);
  const uint64_t other = accept("10.0.0.3", 11);
  const uint64_t fresh = accept("10.0.0.2", 12);
  EXPECT_EQ(registry.CloseOlderIncarnations("10.0.0.2", 0), 0);  // Unknown.
  EXPECT_EQ(registry.CloseOlderIncarnations("10.0.0.2", 12), 2);
  ASSERT_TRUE(app.WaitForCloses(2));
  std::vector<uint64_t> closed = app.closed_connections();
  std::sort(closed.begin(), closed.end());
  EXPECT_EQ(closed, (std::vector<uint64_t>{old1, old2}));
  EXPECT_EQ(registry.CloseOlderIncarnations("10.0.0.2", 12), 0);
  EXPECT_TRUE(registry.Close(fresh, "10.0.0.2").ok());
  EXPECT_TRUE(registry.Close(other, "10.0.0.3").ok());
}

// The scan runs when a peer's incarnation changes, not on every call; a
// call of the old incarnation that finishes after the new one's first call
// (the restart raced it) is still closed at the next call.
TEST(ServiceRegistryTest, AnOldIncarnationsLateConnectionIsClosedNextTime) {
  ServiceRegistry registry;
  FakeApplication app(&registry, WithEndpoints(4));
  EXPECT_EQ(registry.CloseOlderIncarnations("10.0.0.2", 12), 0);
  absl::StatusOr<ServiceRegistry::Accepted> late =
      registry.Accept("echo", Client(), Soon(), "10.0.0.2", 11);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(registry.CloseOlderIncarnations("10.0.0.2", 12), 1);
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_EQ(app.closed_connections().front(), late->connection_id);
  EXPECT_EQ(registry.CloseOlderIncarnations("10.0.0.2", 12), 0);
}

// A connect the calling swiftd gave up on (the link broke before the
// answer came) is closed by its client id once it can tell us; the fault
// test found such half connections kept for good.
TEST(ServiceRegistryTest, AnAbandonedConnectIsClosedByTheCallersId) {
  ServiceRegistry registry;
  FakeApplication app(&registry, WithEndpoints(4));
  absl::StatusOr<ServiceRegistry::Accepted> accepted = registry.Accept(
      "echo", Client(), Soon(), "10.0.0.2", /*peer_incarnation=*/7,
      /*client_connection_id=*/41);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(absl::IsNotFound(registry.CloseAbandoned("10.0.0.2", 40)));
  EXPECT_TRUE(absl::IsNotFound(registry.CloseAbandoned("10.0.0.3", 41)))
      << "another peer's id of the same number";
  ASSERT_TRUE(registry.CloseAbandoned("10.0.0.2", 41).ok());
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_EQ(app.closed_connections(),
            std::vector<uint64_t>{accepted->connection_id});
  EXPECT_TRUE(absl::IsNotFound(registry.CloseAbandoned("10.0.0.2", 41)));
}

// The accept gave up before the application answered: its late OK means a
// QP connected to nobody, which the registry has it recycle.
TEST(ServiceRegistryTest, LateAnswerRecyclesTheOrphanedQp) {
  ServiceRegistry registry;
  FakeApplication app(&registry, AnsweringAfter(absl::Milliseconds(300)));
  absl::StatusOr<ServiceRegistry::Accepted> accepted = registry.Accept(
      "echo", Client(), absl::Now() + absl::Milliseconds(50), "10.0.0.2");
  EXPECT_TRUE(absl::IsDeadlineExceeded(accepted.status()))
      << accepted.status();
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_EQ(app.closed_connections().size(), 1u);
}

TEST(ServiceRegistryTest, ApplicationLeavingFailsPendingAccepts) {
  ServiceRegistry registry;
  auto app = std::make_unique<FakeApplication>(
      &registry, Silent());
  absl::Status status;
  std::thread caller([&] {
    status = registry.Accept("echo", Client(), Soon(), "10.0.0.2").status();
  });
  while (app->accepts() == 0) absl::SleepFor(absl::Milliseconds(5));
  app->Leave();
  caller.join();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_TRUE(registry.ServiceNames().empty());
  EXPECT_TRUE(absl::IsNotFound(
      registry.Accept("echo", Client(), Soon(), "10.0.0.2").status()));
}

// ---- StartAccept: the outcome on the thread that learns it ----------------

// What a started accept's `done` was given, and on which thread.
class Outcomes {
 public:
  ServiceRegistry::AcceptDone Done() {
    return [this](absl::StatusOr<ServiceRegistry::Accepted> accepted) {
      absl::MutexLock lock(&mu_);
      outcomes_.push_back(std::move(accepted));
      threads_.push_back(std::this_thread::get_id());
    };
  }
  // Waits up to 5 s for `count` outcomes; returns them.
  std::vector<absl::StatusOr<ServiceRegistry::Accepted>> Wait(size_t count) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return outcomes_.size() >= count;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(5));
    return outcomes_;
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return outcomes_.size();
  }
  std::vector<std::thread::id> threads() {
    absl::MutexLock lock(&mu_);
    return threads_;
  }

 private:
  absl::Mutex mu_;
  std::vector<absl::StatusOr<ServiceRegistry::Accepted>> outcomes_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
};

TEST(ServiceRegistryStartTest, TheApplicationsAnswerIsGivenOnItsChannelThread) {
  ServiceRegistry registry;
  FakeApplication app(&registry, AnsweringAfter(absl::Milliseconds(20)));
  Outcomes outcomes;
  absl::StatusOr<ServiceRegistry::StartedAccept> started = registry.StartAccept(
      "echo", Client(), Soon(), "10.0.0.2", 7, 41, outcomes.Done());
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->service, "echo");
  EXPECT_LE(started->deadline, Soon());
  std::vector<absl::StatusOr<ServiceRegistry::Accepted>> given =
      outcomes.Wait(1);
  ASSERT_EQ(given.size(), 1u);
  ASSERT_TRUE(given[0].ok()) << given[0].status();
  EXPECT_EQ(given[0]->connection_id, started->id);
  EXPECT_EQ(given[0]->server_endpoint, FakeApplication::Endpoint(0));
  EXPECT_NE(outcomes.threads()[0], std::this_thread::get_id());
  // Given once: expiring it now changes nothing.
  EXPECT_FALSE(registry.ExpireAccept(*started));
  EXPECT_EQ(outcomes.count(), 1u);
  // The connection is recorded as the peer's: it closes it.
  ASSERT_TRUE(registry.Close(started->id, "10.0.0.2").ok());
  EXPECT_TRUE(app.WaitForCloses(1));
}

TEST(ServiceRegistryStartTest,
     ExpiringGivesDeadlineExceededOnceAndTheLateQpIsRecycled) {
  ServiceRegistry registry;
  FakeApplication app(&registry, AnsweringAfter(absl::Milliseconds(300)));
  Outcomes outcomes;
  absl::StatusOr<ServiceRegistry::StartedAccept> started = registry.StartAccept(
      "echo", Client(), Soon(), "10.0.0.2", 7, 41, outcomes.Done());
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_TRUE(registry.ExpireAccept(*started));
  std::vector<absl::StatusOr<ServiceRegistry::Accepted>> given =
      outcomes.Wait(1);
  ASSERT_EQ(given.size(), 1u);
  EXPECT_TRUE(absl::IsDeadlineExceeded(given[0].status())) << given[0].status();
  EXPECT_EQ(outcomes.threads()[0], std::this_thread::get_id());
  EXPECT_FALSE(registry.ExpireAccept(*started));
  // The application's late OK leaves a QP connected to nobody: recycled,
  // and `done` hears nothing more.
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_EQ(app.closed_connections(), std::vector<uint64_t>{started->id});
  EXPECT_EQ(outcomes.count(), 1u);
  EXPECT_EQ(registry.Stats()[0].connections, 0);
  EXPECT_EQ(registry.Stats()[0].refused, 1u);
}

TEST(ServiceRegistryStartTest,
     AnApplicationThatLeavesGivesEachStartedAcceptUnavailable) {
  ServiceRegistry registry;
  auto app = std::make_unique<FakeApplication>(&registry, Silent());
  Outcomes outcomes;
  std::vector<ServiceRegistry::StartedAccept> started;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<ServiceRegistry::StartedAccept> one = registry.StartAccept(
        "echo", Client(), Soon(), "10.0.0.2", 7, 41 + i, outcomes.Done());
    ASSERT_TRUE(one.ok()) << one.status();
    started.push_back(*one);
  }
  app->Leave();
  std::vector<absl::StatusOr<ServiceRegistry::Accepted>> given =
      outcomes.Wait(2);
  ASSERT_EQ(given.size(), 2u);
  for (const auto& outcome : given) {
    EXPECT_TRUE(absl::IsUnavailable(outcome.status())) << outcome.status();
  }
  for (const auto& one : started) {
    EXPECT_FALSE(registry.ExpireAccept(one));
  }
  EXPECT_EQ(outcomes.count(), 2u);
}

TEST(ServiceRegistryStartTest, AnAcceptThatCannotStartIsItsOwnAnswer) {
  ServiceRegistry registry;
  FakeApplication app(&registry, WithEndpoints(0));
  Outcomes outcomes;
  EXPECT_TRUE(
      absl::IsNotFound(registry
                           .StartAccept("nobody", Client(), Soon(), "10.0.0.2",
                                        7, 41, outcomes.Done())
                           .status()));
  EXPECT_TRUE(absl::IsResourceExhausted(registry
                                            .StartAccept("echo", Client(),
                                                         Soon(), "10.0.0.2", 7,
                                                         41, outcomes.Done())
                                            .status()));
  EXPECT_EQ(outcomes.count(), 0u);
}

// ---- Tenants (issue 10, findings 5 and 9) ---------------------------------

// A SERVICE channel of one uid, driven by the test: the application's end
// of a socket pair whose other end the registry serves.
class TenantChannel {
 public:
  TenantChannel(ServiceRegistry* registry, uid_t uid) {
    auto pair = SeqpacketSocket::Pair();
    EXPECT_TRUE(pair.ok());
    app_.emplace(std::move(pair->first));
    FastPathCaller caller;
    caller.uid = uid;
    caller.pid = 5000 + uid;
    caller.client_name = "tenant";
    thread_ = std::thread(
        [registry, caller, channel = std::move(pair->second)]() mutable {
          registry->ServeChannel(std::move(channel), caller);
        });
  }
  ~TenantChannel() {
    shutdown(app_->fd(), SHUT_RDWR);
    thread_.join();
  }

  // Listens on `service` with `endpoints` endpoints; the ListenReply.
  absl::Status Listen(const std::string& service, int endpoints) {
    v1::ServiceUp up;
    up.mutable_listen()->set_service(service);
    for (int i = 0; i < endpoints; ++i) {
      up.mutable_listen()->add_endpoints(Encoded(i));
    }
    EXPECT_TRUE(app_->Send(up.SerializeAsString()).ok());
    std::optional<v1::ServiceDown> down = Next();
    if (!down.has_value() || !down->has_listen_reply()) {
      return absl::UnknownError("no ListenReply");
    }
    return DecodeStatus(down->listen_reply());
  }

  void AddEndpoints(int count) {
    v1::ServiceUp up;
    for (int i = 0; i < count; ++i) {
      up.mutable_add_endpoints()->add_endpoints(Encoded(100 + i));
    }
    EXPECT_TRUE(app_->Send(up.SerializeAsString()).ok());
  }

  // Answers the next accept event, its QP connected, with `replacements`
  // new endpoints in the answer; false when none came.
  bool AnswerAccept(int replacements) {
    std::optional<v1::ServiceDown> down = Next();
    if (!down.has_value() || !down->has_accept()) {
      return false;
    }
    v1::ServiceUp up;
    up.mutable_accept_reply()->set_event_id(down->accept().event_id());
    for (int i = 0; i < replacements; ++i) {
      up.mutable_accept_reply()->add_replacements(Encoded(200 + i));
    }
    return app_->Send(up.SerializeAsString()).ok();
  }

  // The next message from the registry, if one comes within 2 s.
  std::optional<v1::ServiceDown> Next() {
    pollfd ready{app_->fd(), POLLIN, 0};
    if (poll(&ready, 1, 2000) != 1) {
      return std::nullopt;
    }
    absl::StatusOr<SeqpacketSocket::Message> message = app_->Receive();
    v1::ServiceDown down;
    if (!message.ok() || !down.ParseFromString(message->data)) {
      return std::nullopt;
    }
    return down;
  }

 private:
  static std::string Encoded(int index) {
    return verbs::EncodeEndpoint(FakeApplication::Endpoint(index));
  }

  std::optional<SeqpacketSocket> app_;
  std::thread thread_;
};

// Issue 10, finding 5: service names were global and first-come with no
// owner; another tenant could squat or learn who listens. Now another
// tenant's attempt is refused without saying who holds the name.
TEST(ServiceRegistryTenantTest, AnotherTenantCannotTakeAServiceName) {
  ServiceRegistry registry;
  TenantChannel alice(&registry, 1000);
  ASSERT_TRUE(alice.Listen("kv", 2).ok());
  TenantChannel mallory(&registry, 1001);
  absl::Status taken = mallory.Listen("kv", 2);
  EXPECT_TRUE(absl::IsPermissionDenied(taken)) << taken;
  EXPECT_FALSE(absl::StrContains(taken.message(), "pid")) << taken;
  // Alice's service is untouched: still hers, still serving.
  std::vector<ServiceRegistry::ServiceStats> stats = registry.Stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].owner_uid, 1000u);
  EXPECT_EQ(stats[0].pooled, 2);
  EXPECT_EQ(registry.quotas().Of(1001).services, 0);

  // Her own second listen on the name is the old kAlreadyExists.
  TenantChannel again(&registry, 1000);
  EXPECT_TRUE(absl::IsAlreadyExists(again.Listen("kv", 1)));
}

// Issue 10, finding 9: one tenant made 2,001 services.
TEST(ServiceRegistryTenantTest, ServicesPerTenantAreBounded) {
  BrokerQuotas::Limits limits;
  limits.services = 2;
  BrokerQuotas quotas(limits);
  ServiceRegistry registry(absl::Seconds(2), &quotas);
  TenantChannel a(&registry, 1000), b(&registry, 1000), c(&registry, 1000);
  ASSERT_TRUE(a.Listen("s1", 1).ok());
  ASSERT_TRUE(b.Listen("s2", 1).ok());
  absl::Status third = c.Listen("s3", 1);
  EXPECT_TRUE(absl::IsResourceExhausted(third)) << third;
  EXPECT_TRUE(absl::StrContains(third.message(), "--max_services_per_tenant"))
      << third;
  // Another tenant is not affected, and root is never refused.
  TenantChannel other(&registry, 1001), root(&registry, 0);
  EXPECT_TRUE(other.Listen("s4", 1).ok());
  EXPECT_TRUE(root.Listen("s5", 1).ok());
}

// Issue 10, finding 9: one tenant advertised 2,970,001 pooled endpoints
// (+244 MB of swiftd).
TEST(ServiceRegistryTenantTest, PooledEndpointsAreBoundedPerServiceAndTenant) {
  BrokerQuotas::Limits limits;
  limits.pooled_endpoints_per_service = 4;
  limits.pooled_endpoints = 6;
  BrokerQuotas quotas(limits);
  ServiceRegistry registry(absl::Seconds(2), &quotas);
  TenantChannel first(&registry, 1000);
  absl::Status too_many = first.Listen("big", 5);
  EXPECT_TRUE(absl::IsResourceExhausted(too_many)) << too_many;
  EXPECT_TRUE(absl::StrContains(too_many.message(),
                                "--max_pooled_endpoints_per_service"))
      << too_many;
  EXPECT_EQ(quotas.Of(1000).services, 0);  // Given back.

  TenantChannel a(&registry, 1000);
  ASSERT_TRUE(a.Listen("a", 4).ok());
  // Past the service's quota: refused, and the application told.
  a.AddEndpoints(1);
  std::optional<v1::ServiceDown> refused = a.Next();
  ASSERT_TRUE(refused.has_value() && refused->has_endpoints_refused());
  EXPECT_EQ(refused->endpoints_refused().count(), 1u);
  EXPECT_TRUE(absl::StrContains(refused->endpoints_refused().message(),
                                "--max_pooled_endpoints_per_service"));
  // Past the tenant's: 4 + 3 > 6 over its two services.
  TenantChannel b(&registry, 1000);
  absl::Status tenant = b.Listen("b", 3);
  EXPECT_TRUE(absl::IsResourceExhausted(tenant)) << tenant;
  EXPECT_TRUE(absl::StrContains(tenant.message(),
                                "--max_pooled_endpoints_per_tenant"))
      << tenant;
  TenantChannel b_again(&registry, 1000);  // A refused channel is closed.
  ASSERT_TRUE(b_again.Listen("b", 2).ok());
  EXPECT_EQ(quotas.Of(1000).pooled_endpoints, 6);

  // Taking one frees room; a service that goes gives all of its back.
  (void)registry.Accept("a", Client(), absl::Now() + absl::Milliseconds(50),
                        "10.0.0.2");
  EXPECT_EQ(quotas.Of(1000).pooled_endpoints, 5);
}

// Replacements in an accept's answer count against the same quotas as
// AddEndpoints, and a refusal is told the same way; the accept itself
// stands.
TEST(ServiceRegistryTenantTest, ReplacementsAreBoundedLikeAddEndpoints) {
  BrokerQuotas::Limits limits;
  limits.pooled_endpoints_per_service = 2;
  BrokerQuotas quotas(limits);
  ServiceRegistry registry(absl::Seconds(2), &quotas);
  TenantChannel a(&registry, 1000);
  ASSERT_TRUE(a.Listen("a", 2).ok());
  auto accept = [&registry] {
    return registry.Accept("a", Client(), absl::Now() + absl::Seconds(2),
                           "10.0.0.2");
  };

  // One left in the pool, two replacements: 3 > 2, all refused.
  absl::StatusOr<ServiceRegistry::Accepted> first;
  std::thread client([&] { first = accept(); });
  ASSERT_TRUE(a.AnswerAccept(/*replacements=*/2));
  client.join();
  ASSERT_TRUE(first.ok()) << first.status();
  std::optional<v1::ServiceDown> refused = a.Next();
  ASSERT_TRUE(refused.has_value() && refused->has_endpoints_refused());
  EXPECT_EQ(refused->endpoints_refused().count(), 2u);
  EXPECT_TRUE(absl::StrContains(refused->endpoints_refused().message(),
                                "--max_pooled_endpoints_per_service"));
  EXPECT_EQ(registry.Stats()[0].pooled, 1);
  EXPECT_EQ(quotas.Of(1000).pooled_endpoints, 1);

  // One replacement fits.
  absl::StatusOr<ServiceRegistry::Accepted> second;
  client = std::thread([&] { second = accept(); });
  ASSERT_TRUE(a.AnswerAccept(/*replacements=*/1));
  client.join();
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(
      testing::Eventually([&] { return registry.Stats()[0].pooled == 1; }));
  EXPECT_EQ(quotas.Of(1000).pooled_endpoints, 1);
  EXPECT_FALSE(a.Next().has_value());  // Nothing refused.
}

TEST(ServiceRegistryTenantTest, AServiceThatGoesGivesItsQuotaBack) {
  BrokerQuotas quotas;
  ServiceRegistry registry(absl::Seconds(2), &quotas);
  {
    TenantChannel a(&registry, 1000);
    ASSERT_TRUE(a.Listen("a", 3).ok());
    EXPECT_EQ(quotas.Of(1000).services, 1);
    EXPECT_EQ(quotas.Of(1000).pooled_endpoints, 3);
  }
  EXPECT_TRUE(quotas.List().empty());
  EXPECT_TRUE(registry.ServiceNames().empty());
}

}  // namespace
}  // namespace swift
