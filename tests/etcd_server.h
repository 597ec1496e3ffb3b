// EtcdServer: Debian's real etcd (/usr/bin/etcd) run by a test as a
// one-member cluster (or a member of a loopback cluster: CreateCluster()),
// its data in the test's directory, its client API on a free port of `ip`.
// Stop() and Start() again keep the ports and data, so that a test can take the
// directory away and bring it back. Killed and reaped when destroyed.
//
// Thread-compatible: one test thread uses it.
#ifndef SWIFT_TESTS_ETCD_SERVER_H_
#define SWIFT_TESTS_ETCD_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/test_pki.h"

namespace swift::testing {

// Where tools/setup installs it (Debian package etcd-server).
inline constexpr char kEtcdBinary[] = "/usr/bin/etcd";

class EtcdServer {
 public:
  // Create(): starts etcd in `dir` listening on `ip` (loopback by default)
  // and waits until it answers; its client API on `client_port`, or on a
  // free port when 0 (another machine must be told a fixed one). kNotFound
  // when the binary is missing (run tools/setup); kUnavailable with the
  // end of its log when it does not answer within `ready_within`.
  static absl::StatusOr<std::unique_ptr<EtcdServer>> Create(
      const std::string& dir, const std::string& ip = "127.0.0.1",
      absl::Duration ready_within = absl::Seconds(60),
      uint16_t client_port = 0);

  EtcdServer(const EtcdServer&) = delete;
  EtcdServer& operator=(const EtcdServer&) = delete;
  ~EtcdServer();

  // CreateWithTls(): Create() on loopback, serving TLS only (https) with
  // `pki`'s server certificate and requiring client certificates its CA
  // signed (etcd --client-cert-auth).
  static absl::StatusOr<std::unique_ptr<EtcdServer>> CreateWithTls(
      const std::string& dir, const TestPki& pki);

  // CreateCluster(): `members` etcds on loopback forming one cluster (each
  // its own data and ports in `dir`), once every member answers.
  static absl::StatusOr<std::vector<std::unique_ptr<EtcdServer>>> CreateCluster(
      const std::string& dir, int members,
      absl::Duration ready_within = absl::Seconds(60));

  // Stop(): SIGKILL, as a crash or a lost host would; Start(): again, on
  // the same ports with the same data, and waits until it answers.
  void Stop();
  absl::Status Start(absl::Duration ready_within = absl::Seconds(60));
  // The process (for its memory); -1 when stopped.
  pid_t pid() const { return pid_; }

  // "ip:port" of the client API; "etcd://ip:port/<prefix>" for swiftd.
  std::string endpoint() const;
  std::string DirectoryUrl(const std::string& prefix = "/swift") const;
  std::string LogTail() const;

 private:
  EtcdServer(std::string dir, std::string ip, uint16_t client_port,
             uint16_t peer_port, std::string name)
      : dir_(std::move(dir)),
        ip_(std::move(ip)),
        client_port_(client_port),
        peer_port_(peer_port),
        name_(std::move(name)) {}

  // A member's own folder in `dir`, or an error.
  static absl::StatusOr<std::string> MakeOwnDir(const std::string& dir);
  std::string PeerUrl() const;
  // Starts the process; WaitReady() waits until it answers.
  absl::Status Launch();
  absl::Status WaitReady(absl::Duration ready_within);

  const std::string dir_;
  const std::string ip_;
  const uint16_t client_port_;
  const uint16_t peer_port_;
  const std::string name_;
  // Set: serves TLS only, and its readiness probe uses `pki_`'s client.
  std::optional<TestPki> pki_;
  // "name=peer_url,..." of every member (its own alone when single).
  std::string initial_cluster_;
  pid_t pid_ = -1;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_ETCD_SERVER_H_
