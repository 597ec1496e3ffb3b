// PrometheusServer: Debian's real Prometheus server (/usr/bin/prometheus)
// run by a test, scraping one target every second, with its storage in
// the test's directory and its HTTP API on a free loopback port; and
// Query(), an instant query through that API. Stopped (SIGTERM, then
// SIGKILL) and reaped when destroyed.
//
// Thread-compatible: one test thread uses it.
#ifndef SWIFT_TESTS_METRICS_PROMETHEUS_H_
#define SWIFT_TESTS_METRICS_PROMETHEUS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/free_port.h"

namespace swift::testing {

// Where tools/setup installs them (Debian package prometheus).
inline constexpr char kPrometheusBinary[] = "/usr/bin/prometheus";
inline constexpr char kPromtoolBinary[] = "/usr/bin/promtool";

class PrometheusServer {
 public:
  // Start()
  //
  // Writes a configuration that scrapes 127.0.0.1:`target_port` (job
  // "swiftd") every second into `dir`, starts Prometheus on a free port
  // with its storage and log in `dir`, and waits (up to `ready_within`)
  // until it reports ready. kNotFound when the binary is missing (run
  // tools/setup); kUnavailable, with the end of its log, when it does not
  // get ready.
  static absl::StatusOr<std::unique_ptr<PrometheusServer>> Start(
      const std::string& dir, uint16_t target_port,
      absl::Duration ready_within = absl::Seconds(120));

  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;
  ~PrometheusServer();

  // Query()
  //
  // The value of the instant query `expr` now: nullopt when it selects no
  // series; kInternal when Prometheus refuses it or it selects more than
  // one series (wrap it in sum() when several may match).
  absl::StatusOr<std::optional<double>> Query(const std::string& expr) const;

  // The last lines of Prometheus' log, for failure messages.
  std::string LogTail() const;

  uint16_t port() const { return port_; }

 private:
  PrometheusServer(pid_t pid, uint16_t port, std::string log)
      : pid_(pid), port_(port), log_(std::move(log)) {}

  pid_t pid_;
  const uint16_t port_;
  const std::string log_;
};

}  // namespace swift::testing

#endif  // SWIFT_TESTS_METRICS_PROMETHEUS_H_
