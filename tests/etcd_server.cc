// EtcdServer; see etcd_server.h.
#include "tests/etcd_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "daemon/directory/etcd_client.h"
#include "tests/free_port.h"

namespace swift::testing {

absl::StatusOr<std::string> EtcdServer::MakeOwnDir(const std::string& dir) {
  if (access(kEtcdBinary, X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        kEtcdBinary,
        " is missing: run tools/setup (it installs Debian's etcd-server)"));
  }
  // Each server its own data: a test's etcds never share a cluster.
  std::string own_dir = dir + "/etcd.XXXXXX";
  if (mkdtemp(own_dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp in ", dir, " failed"));
  }
  return own_dir;
}

absl::StatusOr<std::unique_ptr<EtcdServer>> EtcdServer::Create(
    const std::string& dir, const std::string& ip, absl::Duration ready_within,
    uint16_t client_port) {
  absl::StatusOr<std::string> own_dir = MakeOwnDir(dir);
  if (!own_dir.ok()) return own_dir.status();
  // A port just released may be handed out again at once.
  if (client_port == 0) client_port = FreeLoopbackPort();
  uint16_t peer_port = FreeLoopbackPort();
  while (peer_port == client_port) peer_port = FreeLoopbackPort();
  std::unique_ptr<EtcdServer> server(
      new EtcdServer(*own_dir, ip, client_port, peer_port, "swift-test"));
  server->initial_cluster_ =
      absl::StrCat(server->name_, "=", server->PeerUrl());
  if (absl::Status started = server->Start(ready_within); !started.ok()) {
    return started;
  }
  return server;
}

absl::StatusOr<std::unique_ptr<EtcdServer>> EtcdServer::CreateWithTls(
    const std::string& dir, const TestPki& pki) {
  absl::StatusOr<std::string> own_dir = MakeOwnDir(dir);
  if (!own_dir.ok()) return own_dir.status();
  const uint16_t client_port = FreeLoopbackPort();
  uint16_t peer_port = FreeLoopbackPort();
  while (peer_port == client_port) peer_port = FreeLoopbackPort();
  std::unique_ptr<EtcdServer> server(new EtcdServer(
      *own_dir, "127.0.0.1", client_port, peer_port, "swift-test"));
  server->initial_cluster_ =
      absl::StrCat(server->name_, "=", server->PeerUrl());
  server->pki_ = pki;
  if (absl::Status started = server->Start(absl::Seconds(60)); !started.ok()) {
    return started;
  }
  return server;
}

absl::StatusOr<std::vector<std::unique_ptr<EtcdServer>>>
EtcdServer::CreateCluster(const std::string& dir, int members,
                          absl::Duration ready_within) {
  std::vector<std::unique_ptr<EtcdServer>> cluster;
  std::vector<uint16_t> taken;
  auto fresh_port = [&taken] {
    uint16_t port = FreeLoopbackPort();
    while (std::find(taken.begin(), taken.end(), port) != taken.end()) {
      port = FreeLoopbackPort();
    }
    taken.push_back(port);
    return port;
  };
  std::vector<std::string> peers;
  for (int i = 0; i < members; ++i) {
    absl::StatusOr<std::string> own_dir = MakeOwnDir(dir);
    if (!own_dir.ok()) return own_dir.status();
    const uint16_t client_port = fresh_port();
    const uint16_t peer_port = fresh_port();
    cluster.emplace_back(new EtcdServer(*own_dir, "127.0.0.1", client_port,
                                        peer_port,
                                        absl::StrCat("swift-test-", i)));
    peers.push_back(
        absl::StrCat(cluster.back()->name_, "=", cluster.back()->PeerUrl()));
  }
  // All must run before any can answer: a member alone has no quorum.
  for (std::unique_ptr<EtcdServer>& member : cluster) {
    member->initial_cluster_ = absl::StrJoin(peers, ",");
    if (absl::Status launched = member->Launch(); !launched.ok()) {
      return launched;
    }
  }
  for (std::unique_ptr<EtcdServer>& member : cluster) {
    if (absl::Status ready = member->WaitReady(ready_within); !ready.ok()) {
      return ready;
    }
  }
  return cluster;
}

std::string EtcdServer::PeerUrl() const {
  return absl::StrCat("http://127.0.0.1:", peer_port_);
}

absl::Status EtcdServer::Start(absl::Duration ready_within) {
  if (absl::Status launched = Launch(); !launched.ok()) return launched;
  return WaitReady(ready_within);
}

absl::Status EtcdServer::Launch() {
  const std::string client_url = absl::StrCat(
      pki_.has_value() ? "https://" : "http://", ip_, ":", client_port_);
  const std::string peer_url = PeerUrl();
  std::vector<std::string> args = {
      kEtcdBinary, "--name=" + name_, "--data-dir=" + dir_ + "/etcd-data",
      "--listen-client-urls=" + client_url,
      "--advertise-client-urls=" + client_url, "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=" + initial_cluster_,
      // Short raft timers make etcd's minimum lease TTL 1 s (1.5 election
      // timeouts, rounded up), so that a test sees a dead host leave soon.
      "--heartbeat-interval=50", "--election-timeout=500", "--log-level=warn"};
  if (pki_.has_value()) {
    args.push_back("--cert-file=" + pki_->server_cert);
    args.push_back("--key-file=" + pki_->server_key);
    args.push_back("--trusted-ca-file=" + pki_->ca_cert);
    args.push_back("--client-cert-auth");
  }
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string log = dir_ + "/etcd.log";
  const pid_t pid = fork();
  if (pid == 0) {
    // Dies with the test, even one killed by its timeout.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    // etcd reads ETCD_* variables too; the test's own must not leak in.
    char* const no_environment[] = {nullptr};
    execve(kEtcdBinary, argv.data(), no_environment);
    _exit(127);
  }
  if (pid < 0) return absl::InternalError("fork failed");
  pid_ = pid;
  return absl::OkStatus();
}

absl::Status EtcdServer::WaitReady(absl::Duration ready_within) {
  const absl::Time deadline = absl::Now() + ready_within;
  while (absl::Now() < deadline) {
    // A fresh connection each time: one made while etcd was still getting
    // ready can hang for many seconds.
    EtcdTls tls;
    if (pki_.has_value()) {
      absl::StatusOr<EtcdTls> read =
          ReadEtcdTls(pki_->ca_cert, pki_->client_cert, pki_->client_key);
      if (!read.ok()) return read.status();
      tls = *std::move(read);
    }
    EtcdClient client({endpoint()}, tls);
    if (client.GetPrefix("/ready-probe", absl::Now() + absl::Seconds(1)).ok()) {
      return absl::OkStatus();
    }
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::UnavailableError(absl::StrCat("etcd exited: ", LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::UnavailableError(absl::StrCat("etcd did not answer within ",
                                             absl::FormatDuration(ready_within),
                                             ": ", LogTail()));
}

void EtcdServer::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

// A test's etcd has nothing worth a graceful stop, which takes seconds.
EtcdServer::~EtcdServer() { Stop(); }

std::string EtcdServer::endpoint() const {
  return absl::StrCat(ip_, ":", client_port_);
}

std::string EtcdServer::DirectoryUrl(const std::string& prefix) const {
  return absl::StrCat("etcd://", endpoint(), prefix);
}

std::string EtcdServer::LogTail() const {
  std::ifstream in(dir_ + "/etcd.log");
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

}  // namespace swift::testing
