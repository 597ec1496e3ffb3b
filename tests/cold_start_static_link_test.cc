// //client:session_static (issue 11, a fast whole-process start): a
// program linked with it maps no shared abseil, protobuf or libstdc++ (they
// are inside the binary), nor glog, gflags, libunwind or liblzma (libswift
// links no glog: common/log.h), and libswift works from it: a
// Session against a swiftd that is not there fails with the documented
// kUnavailable and a message naming the socket. Host only. Its deps are
// ordered as the README says: static archives (gtest) first, then
// //client:session_static, and no @system//:absl_* of its own (those would
// link abseil's shared libraries ahead of the static ones).
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "swift/session.h"

namespace swift {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The shared objects this process mapped.
std::set<std::string> MappedSharedObjects() {
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> objects;
  std::string line;
  while (std::getline(maps, line)) {
    const size_t path = line.find('/');
    if (path != std::string::npos && line.find(".so", path) != std::string::npos) {
      objects.insert(line.substr(path));
    }
  }
  return objects;
}

TEST(ColdStartStaticLinkTest, TheRuntimeLibrariesAreInsideTheBinary) {
  const std::set<std::string> objects = MappedSharedObjects();
  std::vector<std::string> linked_in = {"libabsl_",  "libprotobuf", "libglog",
                                        "libgflags", "libunwind",   "liblzma"};
  // A sanitizer's runtime (--config=asan, ubsan, tsan) is itself linked
  // against the shared libstdc++ and libgcc_s, and brings them along.
  bool sanitized = false;
  for (const std::string& object : objects) {
    for (const char* runtime : {"libasan", "libubsan", "libtsan"}) {
      sanitized = sanitized || Contains(object, runtime);
    }
  }
  if (!sanitized) {
    linked_in.push_back("libstdc++");
    linked_in.push_back("libgcc_s");
  }
  for (const std::string& object : objects) {
    for (const std::string& name : linked_in) {
      EXPECT_FALSE(Contains(object, name))
          << object << " is mapped: " << name
          << " should be linked statically by //client:session_static";
    }
  }
  // libibverbs stays shared: the providers it loads link against it.
  bool verbs = false;
  for (const std::string& object : objects) {
    verbs = verbs || Contains(object, "libibverbs.so");
  }
  EXPECT_TRUE(verbs);
  EXPECT_LE(objects.size(), 10u) << "shared objects mapped: " << objects.size();
}

TEST(ColdStartStaticLinkTest, LibswiftWorksFromTheStaticRuntime) {
  SessionOptions options;
  options.socket_path = "/nonexistent/swiftd.sock";
  absl::StatusOr<std::unique_ptr<Session>> session = Session::Create(options);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.status().code(), absl::StatusCode::kUnavailable)
      << session.status();
  EXPECT_TRUE(Contains(std::string(session.status().message()),
                       "/nonexistent/swiftd.sock"))
      << session.status();
}

}  // namespace
}  // namespace swift
