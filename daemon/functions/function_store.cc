// FunctionStore implementation; see function_store.h.
#include "daemon/functions/function_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/status_macros.h"
#include "common/unique_fd.h"
#include "daemon/functions/trusted_path.h"
#include "glog/logging.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace swift {
namespace {

constexpr absl::string_view kPrefix = "fn-";
constexpr absl::string_view kSuffix = ".textproto";
// Temporary files are <file name><kTempMarker>XXXXXX (mkostemp).
constexpr absl::string_view kTempMarker = ".tmp.";
// Larger files are not registrations swiftd wrote.
constexpr off_t kMaxFileBytes = 1 << 20;
constexpr absl::string_view kBanner =
    "# A function registered with swiftd, restored when swiftd starts.\n"
    "# Written by swiftd; removed by `swiftctl unregister`.\n";

bool SafeByte(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '-';
}

// The directory's contents reach the disk: a rename or unlink survives a
// crash only once its directory is synced.
absl::Status SyncDirectory(const std::string& directory) {
  UniqueFd fd(open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("open(", directory, ")"));
  }
  if (fsync(fd.get()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fsync(", directory, ")"));
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t written = write(fd, data.data(), data.size());
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      return ErrnoStatus(written < 0 ? errno : EIO,
                         absl::StrCat("write(", path, ")"));
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
  return absl::OkStatus();
}

// Keeps the first error (line:column: message) of a text format parse.
class FirstError final : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first.empty()) {
      first = absl::StrCat(line + 1, ":", column + 1, ": ", message);
    }
  }
  void AddWarning(int, int, const std::string&) override {}

  std::string first;
};

}  // namespace

absl::StatusOr<std::unique_ptr<FunctionStore>> FunctionStore::Open(
    const std::string& directory) {
  if (directory.empty() || directory[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "the state directory must be an absolute path, got '", directory, "'"));
  }
  // Whoever may write here, or swap a directory or link on the way, may
  // make swiftd run any library as any user.
  absl::StatusOr<TrustedPath> resolved =
      ResolveTrustedPath(directory, {0, geteuid()},
                         /*create_directories=*/true);
  if (!resolved.ok()) {
    return absl::Status(resolved.status().code(),
                        absl::StrCat("the state directory ", directory,
                                     " cannot keep registrations: ",
                                     resolved.status().message()));
  }
  const struct stat& info = resolved->info;
  if (!S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(directory, " is not a directory"));
  }
  if (info.st_uid != geteuid() || (info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s must be owned by swiftd's user (uid %d) and writable by it "
        "alone; it is owned by uid %d with mode %04o",
        directory, geteuid(), info.st_uid, info.st_mode & 07777));
  }
  // A directory swiftd may not write into (a read-only file system) would
  // fail every registration later: say so now.
  if (access(directory.c_str(), W_OK | X_OK) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot write into ", directory));
  }
  return std::unique_ptr<FunctionStore>(new FunctionStore(directory));
}

std::string FunctionStore::FileName(absl::string_view name) {
  if (name.empty()) {
    return "";
  }
  std::string file(kPrefix);
  for (const char c : name) {
    if (SafeByte(c)) {
      file.push_back(c);
    } else {
      absl::StrAppend(
          &file, "%",
          absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
    if (file.size() + kSuffix.size() > kMaxFileName) {
      return "";
    }
  }
  absl::StrAppend(&file, kSuffix);
  return file;
}

absl::Status FunctionStore::Save(
    const v1::RegisterFunctionRequest& function) const {
  const std::string file_name = FileName(function.name());
  if (file_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "function names must be 1 to about ",
        (kMaxFileName - kPrefix.size() - kSuffix.size()) / 3,
        " bytes (each byte other than [A-Za-z0-9_-] counts 3) to be kept in ",
        directory_));
  }
  v1::RegisterFunctionRequest stored = function;
  stored.clear_header();
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(stored, &text)) {
    return absl::InternalError(
        absl::StrCat("could not encode function '", function.name(), "'"));
  }
  const std::string path = absl::StrCat(directory_, "/", file_name);
  std::string temp = absl::StrCat(path, kTempMarker, "XXXXXX");
  UniqueFd fd(mkostemp(temp.data(), O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrCat("mkostemp(", temp, ")"));
  }
  absl::Status written = WriteAll(fd.get(), absl::StrCat(kBanner, text), temp);
  if (written.ok() && fsync(fd.get()) != 0) {
    written = ErrnoStatus(errno, absl::StrCat("fsync(", temp, ")"));
  }
  if (written.ok() && close(fd.Release()) != 0) {
    written = ErrnoStatus(errno, absl::StrCat("close(", temp, ")"));
  }
  if (written.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    written = ErrnoStatus(errno, absl::StrCat("rename(", temp, ")"));
  }
  if (!written.ok()) {
    unlink(temp.c_str());
    return written;
  }
  return SyncDirectory(directory_);
}

absl::Status FunctionStore::Remove(absl::string_view name) const {
  const std::string file_name = FileName(name);
  if (file_name.empty()) {
    return absl::OkStatus();  // Never stored: Save() refuses such names.
  }
  const std::string path = absl::StrCat(directory_, "/", file_name);
  if (unlink(path.c_str()) != 0) {
    if (errno == ENOENT) {
      return absl::OkStatus();
    }
    return ErrnoStatus(errno, absl::StrCat("unlink(", path, ")"));
  }
  return SyncDirectory(directory_);
}

absl::StatusOr<v1::RegisterFunctionRequest> FunctionStore::Load(
    const std::string& file_name) const {
  const std::string path = absl::StrCat(directory_, "/", file_name);
  // O_NONBLOCK: a FIFO planted here would otherwise block the open until
  // someone writes to it, and swiftd's start-up with it. The type is
  // checked right after, on the opened file.
  UniqueFd fd(
      open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) {
    return absl::DataLossError(ErrnoStatus(errno, "open").message());
  }
  struct stat info;
  if (fstat(fd.get(), &info) != 0) {
    return absl::DataLossError(ErrnoStatus(errno, "fstat").message());
  }
  if (!S_ISREG(info.st_mode) || info.st_uid != geteuid() ||
      (info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::DataLossError(absl::StrFormat(
        "not a regular file owned by uid %d and writable by it alone "
        "(uid %d, mode %04o)",
        geteuid(), info.st_uid, info.st_mode & 07777));
  }
  if (info.st_size > kMaxFileBytes) {
    return absl::DataLossError(absl::StrCat("larger (", info.st_size,
                                            " bytes) than any registration"));
  }
  std::string text(static_cast<size_t>(info.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return absl::DataLossError(ErrnoStatus(errno, "read").message());
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  v1::RegisterFunctionRequest function;
  google::protobuf::TextFormat::Parser parser;
  // A registration a newer swiftd wrote still restores after a downgrade.
  parser.AllowUnknownField(true);
  // The first error goes into LoadAll()'s warning, which names the file,
  // instead of protobuf's own log.
  FirstError errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &function)) {
    return absl::DataLossError(absl::StrCat(
        "not a registration in protobuf text format (", errors.first, ")"));
  }
  if (function.name().empty()) {
    return absl::DataLossError("it names no function");
  }
  if (FileName(function.name()) != file_name) {
    return absl::DataLossError(
        absl::StrCat("it holds function '", absl::CHexEscape(function.name()),
                     "', whose file would be ", FileName(function.name())));
  }
  if (function.library_path().empty() || function.library_path()[0] != '/') {
    return absl::DataLossError("it names no absolute library_path");
  }
  return function;
}

std::vector<v1::RegisterFunctionRequest> FunctionStore::LoadAll() const {
  std::vector<v1::RegisterFunctionRequest> functions;
  DIR* dir = opendir(directory_.c_str());
  if (dir == nullptr) {
    LOG(WARNING) << "Cannot restore functions: "
                 << ErrnoStatus(errno,
                                absl::StrCat("opendir(", directory_, ")"));
    return functions;
  }
  std::vector<std::string> names;
  while (const dirent* entry = readdir(dir)) {
    names.emplace_back(entry->d_name);
  }
  closedir(dir);
  for (const std::string& name : names) {
    if (!absl::StartsWith(name, kPrefix)) {
      continue;  // ".", ".." and files that are not ours.
    }
    const std::string path = absl::StrCat(directory_, "/", name);
    if (absl::StrContains(name, kTempMarker)) {
      // A Save() that a crash interrupted before its rename.
      LOG(INFO) << "Removing " << path
                << ", left behind by an interrupted save";
      unlink(path.c_str());
      continue;
    }
    if (!absl::EndsWith(name, kSuffix)) {
      continue;
    }
    absl::StatusOr<v1::RegisterFunctionRequest> function = Load(name);
    if (!function.ok()) {
      LOG(WARNING) << "Skipping the stored function " << path
                   << " (it will not be restored): "
                   << function.status().message();
      continue;
    }
    functions.push_back(*std::move(function));
  }
  std::sort(functions.begin(), functions.end(),
            [](const auto& a, const auto& b) { return a.name() < b.name(); });
  return functions;
}

}  // namespace swift
