// The hints file's parser and trust checks (preload_hints.h): what the
// preload acts on, and every way a file is refused.
#include "client/preload/preload_hints.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace {

struct Parsed {
  int result = -1;
  swift_preload_hints hints;
  std::string error;
};

Parsed Parse(const std::string& text) {
  Parsed parsed;
  const char* error = nullptr;
  parsed.result = swift_parse_preload_hints(text.data(), text.size(),
                                            &parsed.hints, &error);
  parsed.error = error != nullptr ? error : "";
  return parsed;
}

TEST(PreloadHintsTest, ParsesWhatSwiftdWrites) {
  const Parsed parsed = Parse(
      "swift-preload-hints 1\n"
      "pid 4242\n"
      "provider /usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so\n"
      "provider /usr/lib/x86_64-linux-gnu/libibverbs/libmlx5-rdmav34.so\n"
      "import rxe0\n"
      "import mlx5_0\n"
      "env MLX5_STALL_CQ_POLL 0\n"
      "device rxe0 rxe\n");  // An unknown key (a newer swiftd): ignored.
  ASSERT_EQ(parsed.result, 0) << parsed.error;
  EXPECT_EQ(parsed.hints.pid, 4242);
  ASSERT_EQ(parsed.hints.provider_count, 2);
  EXPECT_STREQ(parsed.hints.providers[0],
               "/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so");
  ASSERT_EQ(parsed.hints.env_count, 1);
  EXPECT_STREQ(parsed.hints.env_names[0], "MLX5_STALL_CQ_POLL");
  EXPECT_STREQ(parsed.hints.env_values[0], "0");
  ASSERT_EQ(parsed.hints.import_count, 2);
  EXPECT_STREQ(parsed.hints.import_devices[0], "rxe0");
  EXPECT_STREQ(parsed.hints.import_devices[1], "mlx5_0");
}

TEST(PreloadHintsTest, ImportsAreOptional) {
  const Parsed parsed = Parse("swift-preload-hints 1\npid 1\n");
  ASSERT_EQ(parsed.result, 0) << parsed.error;
  EXPECT_EQ(parsed.hints.import_count, 0);
  EXPECT_EQ(swift_hints_can_import(&parsed.hints, "rxe0"), 0);
}

TEST(PreloadHintsTest, ImportsUpToTheLimitThenTheFileIsRefused) {
  std::string text = "swift-preload-hints 1\npid 1\n";
  for (int i = 0; i < kSwiftHintsMaxImports; ++i) {
    text += "import rxe" + std::to_string(i) + "\n";
  }
  const Parsed full = Parse(text);
  ASSERT_EQ(full.result, 0) << full.error;
  ASSERT_EQ(full.hints.import_count, kSwiftHintsMaxImports);
  EXPECT_STREQ(full.hints.import_devices[kSwiftHintsMaxImports - 1], "rxe7");

  const Parsed over = Parse(text + "import rxe8\n");
  EXPECT_EQ(over.result, -1);
  EXPECT_EQ(over.error, "too many import lines");
}

TEST(PreloadHintsTest, RefusesAnImportThatNamesNoValidDevice) {
  const std::string head = "swift-preload-hints 1\npid 1\n";
  // The longest name the kernel allows is accepted, whole.
  const std::string longest(kSwiftHintsDeviceNameMax - 1, 'a');
  const Parsed accepted =
      Parse(head + "import " + longest + "\n" + "import A-z.0_9\n");
  ASSERT_EQ(accepted.result, 0) << accepted.error;
  EXPECT_STREQ(accepted.hints.import_devices[0], longest.c_str());
  EXPECT_STREQ(accepted.hints.import_devices[1], "A-z.0_9");

  const std::string bad[] = {
      "import \n",                                  // Empty.
      "import " + longest + "a\n",                  // One too long.
      "import rxe0 rxe\n",                          // A space.
      "import ../rxe0\n",                           // A slash.
      "import rxe0\t\n",                            // A tab.
      "import rx\xc3\xa9\n",                        // Not ASCII.
      "import " + std::string("rxe\0", 4) + "0\n",  // A NUL.
  };
  for (const std::string& line : bad) {
    const Parsed parsed = Parse(head + "import rxe1\n" + line);
    EXPECT_EQ(parsed.result, -1) << line;
    EXPECT_EQ(parsed.error, "an import names no valid device") << line;
  }
}

TEST(PreloadHintsTest, CanImportOnlyTheListedDevices) {
  const Parsed parsed =
      Parse("swift-preload-hints 1\npid 1\nimport rxe0\nimport mlx5_1\n");
  ASSERT_EQ(parsed.result, 0) << parsed.error;
  EXPECT_EQ(swift_hints_can_import(&parsed.hints, "rxe0"), 1);
  EXPECT_EQ(swift_hints_can_import(&parsed.hints, "mlx5_1"), 1);
  EXPECT_EQ(swift_hints_can_import(&parsed.hints, "mlx5_0"), 0);
  EXPECT_EQ(swift_hints_can_import(&parsed.hints, "rxe"), 0);    // A prefix.
  EXPECT_EQ(swift_hints_can_import(&parsed.hints, "rxe00"), 0);  // Longer.
  EXPECT_EQ(swift_hints_can_import(&parsed.hints, ""), 0);
  EXPECT_EQ(swift_hints_can_import(&parsed.hints, nullptr), 0);
  EXPECT_EQ(swift_hints_can_import(nullptr, "rxe0"), 0);
}

TEST(PreloadHintsTest, RefusesBadFilesNamingWhy) {
  const std::string header = "swift-preload-hints 1\n";
  const struct {
    std::string text;
    std::string error;
  } cases[] = {
      {"", "not a version 1 hints file"},
      {"swift-preload-hints 2\npid 1\n", "not a version 1 hints file"},
      {header, "no pid line"},
      {header + "pid 12x\n", "pid is not a number"},
      {header + "pid 0\n", "pid is not positive"},
      {header + "pid 1", "the last line is unterminated"},
      {header + "pid\n", "a line without a value"},
      {header + "pid 1\nprovider librxe.so\n",
       "a provider path is not absolute or too long"},
      {header + "pid 1\nprovider /" + std::string(300, 'a') + "\n",
       "a provider path is not absolute or too long"},
      {header + "pid 1\nenv LD_LIBRARY_PATH 1\n",
       "env names a variable swiftd never sets"},
      {header + "pid 1\nenv MLX5_STALL_CQ_POLL yes\n",
       "env value is not a short number"},
      {header + "pid 1\nenv MLX5_STALL_CQ_POLL\n",
       "env needs a name and a value"},
      {header + "pid 1\n" + std::string(5000, '#') + "\n",
       "the file is too big"},
  };
  for (const auto& c : cases) {
    const Parsed parsed = Parse(c.text);
    EXPECT_EQ(parsed.result, -1) << c.text;
    EXPECT_EQ(parsed.error, c.error) << c.text;
  }
  std::string many = header + "pid 1\n";
  for (int i = 0; i <= kSwiftHintsMaxProviders; ++i) {
    many += "provider /lib/p" + std::to_string(i) + ".so\n";
  }
  EXPECT_EQ(Parse(many).error, "too many providers");
}

class TrustedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/swift-hints-XXXXXX";
    fd_ = mkstemp(pattern);
    ASSERT_GE(fd_, 0);
    path_ = pattern;
  }
  void TearDown() override {
    close(fd_);
    unlink(path_.c_str());
  }
  std::string Check(mode_t mode, uid_t euid) {
    EXPECT_EQ(fchmod(fd_, mode), 0);
    const char* error = nullptr;
    return swift_check_trusted_file(fd_, euid, &error) == 0 ? "trusted"
                                                            : error;
  }
  int fd_ = -1;
  std::string path_;
};

TEST_F(TrustedFileTest, OnlyTheOwnerOrRootMayHaveWrittenIt) {
  const uid_t owner = geteuid();
  EXPECT_EQ(Check(0644, owner), "trusted");
  EXPECT_EQ(Check(0664, owner), "writable by group or others");
  EXPECT_EQ(Check(0646, owner), "writable by group or others");
  if (owner != 0) {
    EXPECT_EQ(Check(0644, owner + 1), "owned by another user");
  } else {
    // A root-owned file is trusted by everyone.
    EXPECT_EQ(Check(0644, 65534), "trusted");
    ASSERT_EQ(fchown(fd_, 65534, 65534), 0);
    EXPECT_EQ(Check(0644, 1000), "owned by another user");
  }
  const int directory = open("/tmp", O_RDONLY | O_DIRECTORY);
  const char* error = nullptr;
  EXPECT_EQ(swift_check_trusted_file(directory, owner, &error), -1);
  EXPECT_STREQ(error, "not a regular file");
  close(directory);
}

// swift_load_provider() checks the path it loads: a file others may write
// is never dlopen()ed, a missing one is named, a trusted non-library fails
// in dlopen.
TEST_F(TrustedFileTest, AProviderIsLoadedOnlyFromATrustedPath) {
  const char* why = nullptr;
  ASSERT_EQ(fchmod(fd_, 0666), 0);
  EXPECT_EQ(swift_load_provider(path_.c_str(), &why), -1);
  EXPECT_STREQ(why, "provider not trusted");
  ASSERT_EQ(fchmod(fd_, 0644), 0);
  ASSERT_EQ(write(fd_, "not an ELF file", 15), 15);
  EXPECT_EQ(swift_load_provider(path_.c_str(), &why), -1);
  EXPECT_STREQ(why, "dlopen of the provider failed");
  EXPECT_EQ(swift_load_provider("/nonexistent/librxe-rdmav34.so", &why), -1);
  EXPECT_STREQ(why, "provider missing");
  EXPECT_EQ(swift_load_provider("/tmp", &why), -1);
  EXPECT_STREQ(why, "provider not trusted");
}

}  // namespace
