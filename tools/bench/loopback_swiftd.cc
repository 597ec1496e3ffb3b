// LoopbackSwiftd implementation; see loopback_swiftd.h.
#include "tools/bench/loopback_swiftd.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/unix_socket.h"
#include "tests/free_port.h"
#include "tests/peer_secret_file.h"

namespace swift::bench {

absl::StatusOr<std::unique_ptr<LoopbackSwiftd>> LoopbackSwiftd::Start(
    const std::string& binary, const std::string& service, int endpoints,
    const std::vector<std::string>& extra_flags) {
  std::unique_ptr<LoopbackSwiftd> swiftd(new LoopbackSwiftd());
  char dir_template[] = "/tmp/loopback_swiftd.XXXXXX";
  if (mkdtemp(dir_template) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  swiftd->dir_ = dir_template;
  const std::string socket_path = swiftd->dir_ + "/swiftd.sock";
  // Peers authenticated as deployed: the credentials' MACs are part of
  // what a connect costs.
  const std::string key = swiftd->dir_ + "/peer.key";
  if (absl::Status written = swift::testing::WritePeerSecretFile(key);
      !written.ok()) {
    return written;
  }
  swiftd->metrics_port_ = swift::testing::FreeLoopbackPort();
  const uint16_t peer_port = swift::testing::FreeLoopbackPort();
  swiftd->pid_ = fork();
  if (swiftd->pid_ == 0) {
    const std::string log = swiftd->dir_ + "/swiftd.log";
    freopen(log.c_str(), "w", stderr);
    std::vector<std::string> args = {
        binary,
        "--socket=" + socket_path,
        "--config=",
        "--state_dir=",
        "--peer_secret_file=" + key,
        "--peer_allow=127.0.0.1/32",
        absl::StrCat("--peer_address=127.0.0.1:", peer_port),
        absl::StrCat("--peers=self=127.0.0.1:", peer_port),
        absl::StrCat("--metrics_address=127.0.0.1:", swiftd->metrics_port_),
        absl::StrCat("--max_pooled_endpoints_per_service", "=",
                     endpoints + 16)};
    args.insert(args.end(), extra_flags.begin(), extra_flags.end());
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  swiftd->fast_path_ = FastPathSocketPath(socket_path);
  absl::StatusOr<SeqpacketSocket> service_channel;
  for (int i = 0; i < 300; ++i) {
    service_channel = testing::OpenRaw(swiftd->fast_path_, "loopback_service",
                                       v1::FastHello::SERVICE);
    if (service_channel.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (!service_channel.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "swiftd did not serve: ", service_channel.status().ToString()));
  }
  swiftd->service_ =
      std::make_unique<SeqpacketSocket>(*std::move(service_channel));
  if (absl::Status listening = testing::ListenRaw(*swiftd->service_, service,
                                                  /*endpoints=*/16);
      !listening.ok()) {
    return listening;
  }
  swiftd->next_qpn_ += 16;
  if (absl::Status added = swiftd->AddEndpoints(endpoints); !added.ok()) {
    return added;
  }
  swiftd->acceptor_ =
      std::make_unique<testing::RawAcceptor>(swiftd->service_.get());
  return swiftd;
}

absl::Status LoopbackSwiftd::AddEndpoints(int count) {
  absl::Status added = testing::AddRawEndpoints(*service_, next_qpn_, count);
  next_qpn_ += static_cast<uint32_t>(count);
  return added;
}

LoopbackSwiftd::~LoopbackSwiftd() {
  acceptor_.reset();
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  unlink((dir_ + "/peer.key").c_str());
}

}  // namespace swift::bench
