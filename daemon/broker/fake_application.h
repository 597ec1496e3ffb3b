// FakeApplication (tests only): a listening application on a
// ServiceRegistry without libswift or RDMA. It runs the registry's side of
// a SERVICE channel (ServeChannel) and the application's side over a
// SeqpacketSocket pair, advertises plain-data endpoints, answers accept
// events as told and records the closes it hears of. Thread-safe.
#ifndef SWIFT_DAEMON_BROKER_FAKE_APPLICATION_H_
#define SWIFT_DAEMON_BROKER_FAKE_APPLICATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/seqpacket_socket.h"
#include "common/verbs/endpoint.h"
#include "daemon/broker/service_registry.h"

namespace swift {

class FakeApplication final {
 public:
  struct Options {
    std::string service = "echo";
    // Endpoints advertised with the ListenCall (qpn 0x100, 0x101, ...).
    int endpoints = 2;
    // How each accept event is answered: after `accept_delay`, with
    // `accept_status` (no answer at all when `answer` is false).
    absl::Duration accept_delay = absl::ZeroDuration();
    absl::Status accept_status;
    bool answer = true;
    // New endpoints each answer carries (AcceptReply.replacements), as
    // libswift's listener replaces the QP an accept took.
    int replacements_per_accept = 0;
  };

  // Registers `options.service` on `registry` (which must outlive this)
  // and waits for the registry's ListenReply (see listen_status()).
  FakeApplication(ServiceRegistry* registry, Options options);
  FakeApplication(const FakeApplication&) = delete;
  FakeApplication& operator=(const FakeApplication&) = delete;
  // Leave().
  ~FakeApplication();

  // The endpoint the registry hands out for pooled QP number `index`.
  static verbs::QpEndpoint Endpoint(int index);

  // The ListenReply's status, and whether it said the registry takes
  // replacements in accept answers.
  absl::Status listen_status() const;
  bool takes_replacements() const;
  // Advertises `count` more endpoints (indices after those sent so far).
  void AddEndpoints(int count);
  // The application closes accepted connection `connection_id` itself
  // (ServiceUp.connection_closed).
  void CloseConnection(uint64_t connection_id);
  // The accept events and closes heard so far.
  int accepts() const;
  std::vector<uint64_t> closed_connections() const;
  // Waits up to 5 s until `count` closes were heard.
  bool WaitForCloses(size_t count) const;
  // The application exits: closes its end and waits for both threads.
  void Leave();

 private:
  void Run();
  void SendUp(const std::string& bytes);

  ServiceRegistry* const registry_;
  const Options options_;
  std::optional<SeqpacketSocket> app_;
  std::thread registry_thread_;
  std::thread app_thread_;
  mutable absl::Mutex mu_;
  std::optional<absl::Status> listen_status_ ABSL_GUARDED_BY(mu_);
  bool takes_replacements_ ABSL_GUARDED_BY(mu_) = false;
  int next_index_ ABSL_GUARDED_BY(mu_) = 0;
  int accepts_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<uint64_t> closed_ ABSL_GUARDED_BY(mu_);
  bool left_ ABSL_GUARDED_BY(mu_) = false;
  // One ServiceUp at a time.
  absl::Mutex send_mu_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_BROKER_FAKE_APPLICATION_H_
