// CheckApiVersion implementation; see api_version.h.
#include "daemon/transport/api_version.h"

#include "absl/strings/str_cat.h"
#include "common/version.h"

namespace swift {

absl::Status CheckApiVersion(const v1::RequestHeader& header) {
  const uint32_t version = header.api_version();
  if (version == 0) {
    return absl::InvalidArgumentError(
        "request has no header.api_version; this swiftd speaks Control API v" +
        std::to_string(kControlApiVersion));
  }
  if (version < kMinControlApiVersion || version > kControlApiVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "client speaks Control API v", version, " but this swiftd (",
        kSwiftVersion, ") speaks v", kMinControlApiVersion, " to v",
        kControlApiVersion, "; upgrade the older side"));
  }
  return absl::OkStatus();
}

}  // namespace swift
