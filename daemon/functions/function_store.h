// FunctionStore: the registered functions swiftd keeps on disk, so that
// they survive a restart of swiftd (systemctl restart, an upgrade).
//
// One file per function in a state directory (swiftd's --state_dir), each
// holding the RegisterFunctionRequest as authorized at registration (uid
// and gid resolved, no header) in protobuf text format. A file is replaced
// atomically (temporary file, fsync, rename, fsync of the directory), so a
// crash leaves either the old registration or the new one, never a torn
// file. File names encode the function's name, so any name (with '/',
// "..", NUL or anything else) stays inside the directory.
//
// A stored registration names a library swiftd runs as the stored uid
// (root included), so the directory and its files must be swiftd's own:
// Open() refuses a directory that another user owns or others may write,
// or that is reached through a directory or a symbolic link another user
// could change (ResolveTrustedPath(): every component from "/"), and
// LoadAll() skips files that are not swiftd's own.
//
// Thread-safe: the directory is the only state, and each call touches only
// the files of the function it names.
#ifndef SWIFT_DAEMON_FUNCTIONS_FUNCTION_STORE_H_
#define SWIFT_DAEMON_FUNCTIONS_FUNCTION_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/swift.pb.h"

namespace swift {

class FunctionStore final {
 public:
  // Open()
  //
  // Uses `directory` (absolute), creating it and missing parents with mode
  // 0700, each only inside a directory found safe. Errors:
  // kInvalidArgument (empty or relative path), kPermissionDenied naming
  // the directory or link on the way (or the directory itself) that a user
  // other than root and swiftd's could change (owned by another user, or
  // writable by group or others: a symlink in a tenant's directory
  // included), the errno status of mkdir/lstat, kFailedPrecondition when
  // it is not a directory or not owned by swiftd's user, or swiftd cannot
  // write into it.
  static absl::StatusOr<std::unique_ptr<FunctionStore>> Open(
      const std::string& directory);

  FunctionStore(const FunctionStore&) = delete;
  FunctionStore& operator=(const FunctionStore&) = delete;

  // Save()
  //
  // Stores `function` (without its header), replacing what was stored
  // under its name. kInvalidArgument for an empty name or one too long to
  // encode as a file name; otherwise the errno status of the failed write.
  // On failure the previous file, if any, is left as it was.
  absl::Status Save(const v1::RegisterFunctionRequest& function) const;

  // Remove()
  //
  // Forgets the function `name`. OK when nothing is stored under it.
  absl::Status Remove(absl::string_view name) const;

  // LoadAll()
  //
  // Every stored function, sorted by name. A file that cannot be read or
  // parsed, or is not swiftd's own, is logged (a warning naming the file)
  // and skipped; temporary files a crash left behind are deleted.
  std::vector<v1::RegisterFunctionRequest> LoadAll() const;

  // FileName()
  //
  // The file (within the directory) that holds function `name`: "fn-",
  // then the name with every byte other than [A-Za-z0-9_-] as %XX, then
  // ".textproto". Empty when the name is empty or the result would exceed
  // kMaxFileName bytes.
  static std::string FileName(absl::string_view name);

  // The longest file name FileName() returns: NAME_MAX (255) less room for
  // the temporary file's suffix.
  static constexpr size_t kMaxFileName = 224;

  const std::string& directory() const { return directory_; }

 private:
  explicit FunctionStore(std::string directory)
      : directory_(std::move(directory)) {}

  // Loads one file; kDataLoss (naming it) when it is unusable.
  absl::StatusOr<v1::RegisterFunctionRequest> Load(
      const std::string& file_name) const;

  const std::string directory_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_FUNCTIONS_FUNCTION_STORE_H_
