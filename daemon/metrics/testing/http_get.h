// HttpGet(): one plain HTTP/1.0 GET on a loopback TCP port, for tests that
// read swiftd's /metrics or ask a Prometheus server's HTTP API. No
// keep-alive, no chunked encoding, no redirects: the response is read to
// the end of the connection.
//
// Thread-safe: no shared state.
#ifndef SWIFT_DAEMON_METRICS_TESTING_HTTP_GET_H_
#define SWIFT_DAEMON_METRICS_TESTING_HTTP_GET_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace swift::testing {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// HttpGet()
//
// GET `path` (already URL-encoded) from 127.0.0.1:`port`. kUnavailable
// when nothing listens or the connection breaks, kDeadlineExceeded after
// `timeout`, kInternal for an answer that is not HTTP.
absl::StatusOr<HttpResponse> HttpGet(
    uint16_t port, const std::string& path,
    absl::Duration timeout = absl::Seconds(10));

// UrlEncode(): `text` with every byte but [A-Za-z0-9_.~-] percent-encoded,
// for a query parameter.
std::string UrlEncode(absl::string_view text);

}  // namespace swift::testing

#endif  // SWIFT_DAEMON_METRICS_TESTING_HTTP_GET_H_
