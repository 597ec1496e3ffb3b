// LoadConfigFile(); see config_file.h.
#include "daemon/config/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/unique_fd.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace swift {
namespace {

// A config file larger than this is not one: refuse it rather than read it.
constexpr off_t kMaxConfigBytes = 1 << 20;

// Collects TextFormat's errors as "PATH:LINE:COLUMN: message" (TextFormat
// counts from 0; editors from 1).
class Collector final : public google::protobuf::io::ErrorCollector {
 public:
  explicit Collector(const std::string& path) : path_(path) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(
        absl::StrCat(path_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    AddError(line, column, message);
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  const std::string& path_;
  std::vector<std::string> errors_;
};

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) {
    const int error = errno;
    const std::string what = absl::StrCat("cannot read the config file ", path,
                                          ": ", strerror(error));
    if (error == ENOENT) return absl::NotFoundError(what);
    if (error == EACCES || error == EPERM) {
      return absl::PermissionDeniedError(what);
    }
    return absl::FailedPreconditionError(what);
  }
  struct stat info;
  if (fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the config file ", path, " is not a regular file"));
  }
  if (info.st_size > kMaxConfigBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("the config file ", path, " has ", info.st_size,
                     " bytes; a config file has at most ", kMaxConfigBytes));
  }
  std::string text(info.st_size, '\0');
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = read(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot read the config file ", path, ": ", strerror(errno)));
    }
    if (n == 0) break;  // Shrank while we read: parse what is there.
    done += n;
  }
  text.resize(done);
  return text;
}

}  // namespace

bool SettingIsSet(const config::SwiftdConfig& config,
                  const google::protobuf::FieldDescriptor* field) {
  const google::protobuf::Reflection* reflection = config.GetReflection();
  return field->is_repeated() ? reflection->FieldSize(config, field) > 0
                              : reflection->HasField(config, field);
}

absl::StatusOr<ConfigFile> ParseConfigText(const std::string& path,
                                           const std::string& text) {
  ConfigFile file;
  file.path = path;
  Collector errors(path);
  google::protobuf::TextFormat::ParseInfoTree tree;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(text, &file.config)) {
    if (errors.errors().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a valid config file"));
    }
    return absl::InvalidArgumentError(absl::StrJoin(errors.errors(), "\n"));
  }
  const google::protobuf::Descriptor* descriptor = file.config.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (!SettingIsSet(file.config, field)) continue;
    const google::protobuf::TextFormat::ParseLocation location =
        tree.GetLocation(field, field->is_repeated() ? 0 : -1);
    file.locations[field->name()] =
        location.line < 0 ? path
                          : absl::StrCat(path, ":", location.line + 1, ":",
                                         location.column + 1);
  }
  return file;
}

absl::StatusOr<ConfigFile> LoadConfigFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  return ParseConfigText(path, *text);
}

}  // namespace swift
