// Fuzz target: the function store's file parser (daemon/functions/
// function_store), which swiftd runs as root at every start on the files
// of its state directory.
//
// Each input (messages, fuzz_support.h's encoding):
//   message 0   a function name; its file is FunctionStore::FileName(name)
//               (or "fn-x.textproto" for a name the store refuses)
//   message 1   that file's contents
//   message 2   optional: a second file, named "fn-" + this message ('/'
//               and NUL replaced), with the same contents (temporary
//               files, odd suffixes, another function's file)
// written to a scratch state directory, then LoadAll().
//
// Checks: LoadAll() returns only functions whose file is theirs and whose
// library path is absolute, opens no descriptor for good, and each loaded
// function survives Save() and LoadAll() unchanged (its header aside,
// which the store never keeps).
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/functions/function_store.h"
#include "google/protobuf/util/message_differencer.h"
#include "proto/swift.pb.h"
#include "tests/fuzz/fuzz_support.h"

namespace swift::fuzz {
namespace {

struct World {
  std::unique_ptr<FunctionStore> store;
};

World& TheWorld() {
  static World* world = [] {
    QuietLogs();
    auto* w = new World();
    absl::StatusOr<std::unique_ptr<FunctionStore>> store =
        FunctionStore::Open(ScratchDirectory("function-store") + "/state");
    Check(store.ok(), absl::StrCat("FunctionStore::Open: ",
                                   store.status().ToString()));
    w->store = *std::move(store);
    return w;
  }();
  return *world;
}

void WriteFile(const std::string& path, absl::string_view contents) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
                                        O_NOFOLLOW, 0600);
  Check(fd >= 0, absl::StrCat("open(", path, ")"));
  while (!contents.empty()) {
    const ssize_t n = write(fd, contents.data(), contents.size());
    Check(n > 0, "write");
    contents.remove_prefix(static_cast<size_t>(n));
  }
  close(fd);
}

void EmptyDirectory(const std::string& directory) {
  DIR* dir = opendir(directory.c_str());
  Check(dir != nullptr, "opendir(state)");
  std::vector<std::string> names;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  closedir(dir);
  for (const std::string& name : names) {
    unlink(absl::StrCat(directory, "/", name).c_str());
  }
}

}  // namespace
}  // namespace swift::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace swift::fuzz;  // NOLINT: the entry point is global.
  using google::protobuf::util::MessageDifferencer;
  World& world = TheWorld();
  const swift::FunctionStore& store = *world.store;
  const std::string& directory = store.directory();
  std::vector<std::string> messages = SplitMessages(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  messages.resize(std::max<size_t>(messages.size(), 2));

  std::vector<std::string> files;
  std::string file = swift::FunctionStore::FileName(messages[0]);
  files.push_back(file.empty() ? "fn-x.textproto" : file);
  if (messages.size() > 2 && !messages[2].empty() && messages[2].size() < 200) {
    std::string suffix = messages[2];
    std::replace(suffix.begin(), suffix.end(), '/', '_');
    std::replace(suffix.begin(), suffix.end(), '\0', '_');
    files.push_back("fn-" + suffix);
  }
  for (const std::string& name : files) {
    WriteFile(absl::StrCat(directory, "/", name), messages[1]);
  }

  const int fds_before = OpenFdCount();
  const std::vector<swift::v1::RegisterFunctionRequest> loaded = store.LoadAll();
  Check(OpenFdCount() == fds_before, "LoadAll leaked a descriptor");
  for (const swift::v1::RegisterFunctionRequest& function : loaded) {
    const std::string own = swift::FunctionStore::FileName(function.name());
    Check(std::find(files.begin(), files.end(), own) != files.end(),
          "LoadAll: a function from a file that is not its own");
    Check(!function.library_path().empty() &&
              function.library_path()[0] == '/',
          "LoadAll: a relative library path");
  }

  // What was loaded is stored and loaded again unchanged.
  for (const swift::v1::RegisterFunctionRequest& function : loaded) {
    EmptyDirectory(directory);
    const absl::Status saved = store.Save(function);
    Check(saved.ok(), absl::StrCat("Save of a loaded function: ",
                                   saved.ToString()));
    const std::vector<swift::v1::RegisterFunctionRequest> again =
        store.LoadAll();
    swift::v1::RegisterFunctionRequest expected = function;
    expected.clear_header();
    Check(again.size() == 1 && MessageDifferencer::Equals(again[0], expected),
          absl::StrCat("Save/LoadAll round trip changed ",
                       expected.ShortDebugString()));
  }
  EmptyDirectory(directory);
  return 0;
}
