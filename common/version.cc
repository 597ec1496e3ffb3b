// CheckApiVersion implementation; see version.h.
#include "common/version.h"

#include "absl/strings/str_cat.h"

namespace swift {

absl::Status CheckApiVersion(uint32_t version, absl::string_view caller) {
  if (version == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(caller, " sent no api_version; this swiftd (",
                     kSwiftVersion, ") speaks API v", kMinControlApiVersion,
                     " to v", kControlApiVersion));
  }
  if (version < kMinControlApiVersion || version > kControlApiVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        caller, " speaks API v", version, " but this swiftd (", kSwiftVersion,
        ") speaks v", kMinControlApiVersion, " to v", kControlApiVersion,
        "; upgrade the older side"));
  }
  return absl::OkStatus();
}

}  // namespace swift
