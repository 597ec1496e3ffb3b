// ClientRegistry implementation; see client_registry.h.
#include "daemon/api/client_registry.h"

#include <algorithm>

namespace swift {

uint64_t ClientRegistry::Add(std::string name, int64_t pid) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  clients_[id] = Client{id, std::move(name), pid, absl::Now()};
  return id;
}

bool ClientRegistry::Remove(uint64_t id) {
  absl::MutexLock lock(&mu_);
  return clients_.erase(id) == 1;
}

int ClientRegistry::Count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(clients_.size());
}

std::vector<ClientRegistry::Client> ClientRegistry::List() const {
  std::vector<Client> clients;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, client] : clients_) {
      clients.push_back(client);
    }
  }
  std::sort(clients.begin(), clients.end(),
            [](const Client& a, const Client& b) { return a.id < b.id; });
  return clients;
}

void ClientRegistry::AddFastPath(FastPathConnection connection) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = connection.channel_id;
  fast_path_[id] = std::move(connection);
}

bool ClientRegistry::RemoveFastPath(uint64_t channel_id) {
  absl::MutexLock lock(&mu_);
  return fast_path_.erase(channel_id) == 1;
}

std::vector<ClientRegistry::FastPathConnection> ClientRegistry::ListFastPath()
    const {
  std::vector<FastPathConnection> connections;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, connection] : fast_path_) {
      connections.push_back(connection);
    }
  }
  std::sort(connections.begin(), connections.end(),
            [](const FastPathConnection& a, const FastPathConnection& b) {
              return a.channel_id < b.channel_id;
            });
  return connections;
}

int ClientRegistry::FastPathCount() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(fast_path_.size());
}

}  // namespace swift
