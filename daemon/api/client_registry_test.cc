#include "daemon/api/client_registry.h"

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(ClientRegistryTest, CountsClientsUntilRemovedAndNeverReusesIds) {
  ClientRegistry registry;
  const uint64_t first = registry.Add("app", 100);
  const uint64_t second = registry.Add("bench", 200);
  EXPECT_NE(first, 0u);
  EXPECT_NE(first, second);
  EXPECT_EQ(registry.Count(), 2);

  std::vector<ClientRegistry::Client> clients = registry.List();
  ASSERT_EQ(clients.size(), 2u);
  EXPECT_EQ(clients[0].name, "app");
  EXPECT_EQ(clients[1].pid, 200);

  EXPECT_TRUE(registry.Remove(first));
  EXPECT_FALSE(registry.Remove(first));
  EXPECT_EQ(registry.Count(), 1);
  EXPECT_GT(registry.Add("again", 300), second);
}

TEST(ClientRegistryTest, ListsFastPathConnectionsByChannelUntilRemoved) {
  ClientRegistry registry;
  registry.AddFastPath({9, "svc", 11, 1000, "service", absl::Now()});
  registry.AddFastPath({3, "app", 10, 0, "calls", absl::Now()});
  std::vector<ClientRegistry::FastPathConnection> connections =
      registry.ListFastPath();
  ASSERT_EQ(connections.size(), 2u);
  EXPECT_EQ(connections[0].channel_id, 3u);
  EXPECT_EQ(connections[1].kind, "service");
  EXPECT_EQ(connections[1].uid, 1000u);
  EXPECT_TRUE(registry.RemoveFastPath(3));
  EXPECT_FALSE(registry.RemoveFastPath(3));
  EXPECT_EQ(registry.FastPathCount(), 1);
  EXPECT_EQ(registry.Count(), 0);  // Attach streams are counted apart.
}

}  // namespace
}  // namespace swift
