// A HostRecord's text in etcd (proto/directory.proto): protobuf's JSON with
// the proto's field names, so that `etcdctl get --prefix` is readable. One
// writer and one reader for every swiftd, its tests and the benchmark.
#ifndef SWIFT_DAEMON_DIRECTORY_HOST_RECORD_JSON_H_
#define SWIFT_DAEMON_DIRECTORY_HOST_RECORD_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/directory.pb.h"

namespace swift {

std::string HostRecordToJson(const directory::v1::HostRecord& record);

// Fields it does not know are ignored: records from newer swiftds carry
// them. kInvalidArgument with protobuf's reason for text that is not a
// record.
absl::StatusOr<directory::v1::HostRecord> HostRecordFromJson(
    const std::string& json);

}  // namespace swift

#endif  // SWIFT_DAEMON_DIRECTORY_HOST_RECORD_JSON_H_
