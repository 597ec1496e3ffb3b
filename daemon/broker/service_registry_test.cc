// Host tests for ServiceRegistry over SeqpacketSocket pairs: listening,
// advertising endpoints, taking one, refusals, closes, late (orphaned)
// answers and an application that goes away. No RDMA: endpoints are data.
#include "daemon/broker/service_registry.h"

#include <thread>

#include "absl/time/clock.h"
#include "daemon/broker/fake_application.h"
#include "gtest/gtest.h"

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
      registry.Accept("echo", Client(), Soon());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->server_endpoint, FakeApplication::Endpoint(0));
  EXPECT_EQ(first->app_accept, absl::Microseconds(7));
  absl::StatusOr<ServiceRegistry::Accepted> second =
      registry.Accept("echo", Client(), Soon());
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
  ASSERT_TRUE(registry.Accept("echo", Client(), Soon()).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(
      registry.Accept("echo", Client(), Soon()).status()));
  app.AddEndpoints(1);
  absl::StatusOr<ServiceRegistry::Accepted> refilled;
  for (int i = 0; i < 100; ++i) {  // AddEndpoints is asynchronous.
    refilled = registry.Accept("echo", Client(), Soon());
    if (refilled.ok()) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(refilled.ok()) << refilled.status();
  EXPECT_EQ(refilled->server_endpoint, FakeApplication::Endpoint(1));
  EXPECT_GE(registry.Stats()[0].refused, 1u);  // Each empty-pool refusal.
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
      registry.Accept("nothing", Client(), Soon()).status()));
}

TEST(ServiceRegistryTest, ApplicationErrorsReachTheCaller) {
  ServiceRegistry registry;
  FakeApplication app(
      &registry, Answering(absl::InternalError("RTR failed")));
  absl::StatusOr<ServiceRegistry::Accepted> accepted =
      registry.Accept("echo", Client(), Soon());
  EXPECT_EQ(accepted.status(), absl::InternalError("RTR failed"));
  EXPECT_EQ(registry.Stats()[0].refused, 1u);
  EXPECT_EQ(registry.Stats()[0].connections, 0);
}

TEST(ServiceRegistryTest, CloseTellsTheApplicationOnce) {
  ServiceRegistry registry;
  FakeApplication app(&registry, {});
  absl::StatusOr<ServiceRegistry::Accepted> accepted =
      registry.Accept("echo", Client(), Soon());
  ASSERT_TRUE(accepted.ok());
  ASSERT_TRUE(registry.Close(accepted->connection_id).ok());
  ASSERT_TRUE(app.WaitForCloses(1));
  EXPECT_EQ(app.closed_connections(),
            std::vector<uint64_t>{accepted->connection_id});
  EXPECT_TRUE(absl::IsNotFound(registry.Close(accepted->connection_id)));
}

// The accept gave up before the application answered: its late OK means a
// QP connected to nobody, which the registry has it recycle.
TEST(ServiceRegistryTest, LateAnswerRecyclesTheOrphanedQp) {
  ServiceRegistry registry;
  FakeApplication app(&registry, AnsweringAfter(absl::Milliseconds(300)));
  absl::StatusOr<ServiceRegistry::Accepted> accepted = registry.Accept(
      "echo", Client(), absl::Now() + absl::Milliseconds(50));
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
    status = registry.Accept("echo", Client(), Soon()).status();
  });
  while (app->accepts() == 0) absl::SleepFor(absl::Milliseconds(5));
  app->Leave();
  caller.join();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_TRUE(registry.ServiceNames().empty());
  EXPECT_TRUE(absl::IsNotFound(
      registry.Accept("echo", Client(), Soon()).status()));
}

}  // namespace
}  // namespace swift
