// PrometheusServer; see metrics_prometheus.h.
#include "tests/metrics_prometheus.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/metrics/testing/http_get.h"

namespace swift::testing {

absl::StatusOr<std::unique_ptr<PrometheusServer>> PrometheusServer::Start(
    const std::string& dir, uint16_t target_port, absl::Duration ready_within) {
  if (access(kPrometheusBinary, X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        kPrometheusBinary,
        " is missing: run tools/setup (it installs Debian's prometheus)"));
  }
  const std::string config = dir + "/prometheus.yml";
  std::ofstream(config) << "global:\n"
                           "  scrape_interval: 1s\n"
                           "  scrape_timeout: 1s\n"
                           "scrape_configs:\n"
                           "  - job_name: swiftd\n"
                           "    static_configs:\n"
                           "      - targets: ['127.0.0.1:"
                        << target_port << "']\n";
  const uint16_t port = FreeLoopbackPort();
  const std::string log = dir + "/prometheus.log";
  std::vector<std::string> args = {
      kPrometheusBinary, "--config.file=" + config,
      "--storage.tsdb.path=" + dir + "/prometheus-data",
      absl::StrCat("--web.listen-address=127.0.0.1:", port),
      "--log.level=info"};
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    execv(kPrometheusBinary, argv.data());
    _exit(127);
  }
  if (pid < 0) {
    return absl::InternalError("fork failed");
  }
  std::unique_ptr<PrometheusServer> server(
      new PrometheusServer(pid, port, log));
  const absl::Time deadline = absl::Now() + ready_within;
  while (absl::Now() < deadline) {
    absl::StatusOr<HttpResponse> ready =
        HttpGet(port, "/-/ready", absl::Seconds(5));
    if (ready.ok() && ready->status == 200) {
      return server;
    }
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      server->pid_ = -1;
      return absl::UnavailableError(
          absl::StrCat("prometheus exited: ", server->LogTail()));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  return absl::UnavailableError(absl::StrCat("prometheus not ready within ",
                                             absl::FormatDuration(ready_within),
                                             ": ", server->LogTail()));
}

PrometheusServer::~PrometheusServer() {
  if (pid_ <= 0) {
    return;
  }
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      return;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

absl::StatusOr<std::optional<double>> PrometheusServer::Query(
    const std::string& expr) const {
  absl::StatusOr<HttpResponse> response =
      HttpGet(port_, "/api/v1/query?query=" + UrlEncode(expr));
  if (!response.ok()) {
    return response.status();
  }
  // {"status":"success","data":{"resultType":"vector","result":[
  //   {"metric":{...},"value":[1700000000.123,"5"]}]}}
  const std::string& body = response->body;
  if (response->status != 200 ||
      body.find("\"status\":\"success\"") == std::string::npos) {
    return absl::InternalError(absl::StrCat("query '", expr, "': HTTP ",
                                            response->status, ": ", body));
  }
  const std::string key = "\"value\":[";
  const size_t first = body.find(key);
  if (first == std::string::npos) {
    return std::nullopt;
  }
  if (body.find(key, first + 1) != std::string::npos) {
    return absl::InternalError(
        absl::StrCat("query '", expr, "' selects several series: ", body));
  }
  const size_t open = body.find('"', body.find(',', first));
  const size_t close = body.find('"', open + 1);
  double value = 0;
  if (open == std::string::npos || close == std::string::npos ||
      !absl::SimpleAtod(body.substr(open + 1, close - open - 1), &value)) {
    return absl::InternalError(
        absl::StrCat("query '", expr, "': no value in ", body));
  }
  return value;
}

std::string PrometheusServer::LogTail() const {
  std::ifstream file(log_);
  std::stringstream text;
  text << file.rdbuf();
  const std::string all = text.str();
  return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
}

}  // namespace swift::testing
