// HostRecord as JSON; see host_record_json.h.
#include "daemon/directory/host_record_json.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace swift {

std::string HostRecordToJson(const directory::v1::HostRecord& record) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  // Only fails on a message that is not valid UTF-8, which a record built
  // from checked names is not; an empty value is then refused by readers.
  (void)google::protobuf::util::MessageToJsonString(record, &json, options);
  return json;
}

absl::StatusOr<directory::v1::HostRecord> HostRecordFromJson(
    const std::string& json) {
  directory::v1::HostRecord record;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (auto status =
          google::protobuf::util::JsonStringToMessage(json, &record, options);
      !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the value is not a HostRecord: ", status.ToString()));
  }
  return record;
}

}  // namespace swift
