// ParseDirectoryUrl(); see directory_url.h.
#include "daemon/directory/directory_url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace swift {
namespace {

constexpr char kScheme[] = "etcd://";
constexpr char kDefaultPrefix[] = "/swift";

absl::Status Invalid(const std::string& text, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "directory '", text, "': ", why,
      "; expected etcd://host:port[,host:port...][/prefix], for example "
      "etcd://10.0.0.5:2379,10.0.0.6:2379/swift"));
}

bool ValidEndpoint(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(endpoint.substr(colon + 1), &port) || port <= 0 ||
      port > 65535) {
    return false;
  }
  for (char c : endpoint.substr(0, colon)) {
    // Host names, IPv4, and bracketed IPv6 ("[::1]:2379").
    if (!absl::ascii_isalnum(c) && c != '.' && c != '-' && c != '[' &&
        c != ']' && c != ':') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<DirectoryUrl> ParseDirectoryUrl(const std::string& text) {
  if (!absl::StartsWith(text, kScheme)) {
    return Invalid(text, "only etcd:// directories are supported");
  }
  std::string rest = text.substr(sizeof(kScheme) - 1);
  DirectoryUrl url;
  url.text = text;
  const size_t slash = rest.find('/');
  url.prefix = kDefaultPrefix;
  if (slash != std::string::npos) {
    url.prefix = rest.substr(slash);
    rest.resize(slash);
    while (url.prefix.size() > 1 && url.prefix.back() == '/') {
      url.prefix.pop_back();
    }
    if (url.prefix == "/") {
      return Invalid(text, "the key prefix must not be empty");
    }
    for (char c : url.prefix) {
      if (!absl::ascii_isgraph(c)) {
        return Invalid(text, "the key prefix has a space or control byte");
      }
    }
  }
  if (rest.empty()) {
    return Invalid(text, "no etcd endpoint");
  }
  for (absl::string_view part : absl::StrSplit(rest, ',')) {
    std::string endpoint(absl::StripAsciiWhitespace(part));
    if (!ValidEndpoint(endpoint)) {
      return Invalid(
          text, absl::StrCat("'", endpoint, "' is not an endpoint host:port"));
    }
    url.endpoints.push_back(std::move(endpoint));
  }
  return url;
}

bool IsValidDirectoryHostName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace swift
