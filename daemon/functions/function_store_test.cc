// FunctionStore on a real directory: what is saved loads back, hostile
// names stay inside the directory, a damaged file is skipped and a replace
// never exposes a partial file.
#include "daemon/functions/function_store.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

std::set<std::string> Entries(const std::string& directory) {
  std::set<std::string> names;
  DIR* dir = opendir(directory.c_str());
  if (dir == nullptr) {
    return names;
  }
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") {
      names.insert(name);
    }
  }
  closedir(dir);
  return names;
}

std::string Read(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

void Write(const std::string& path, const std::string& contents) {
  std::ofstream file(path);
  file << contents;
}

v1::RegisterFunctionRequest Function(const std::string& name) {
  v1::RegisterFunctionRequest function;
  function.mutable_header()->set_api_version(1);
  function.set_name(name);
  function.set_library_path("/opt/functions/" + std::to_string(name.size()) +
                            ".so");
  function.set_uid(1000);
  function.set_gid(1000);
  function.set_max_instances(4);
  function.set_spare_instances(0);
  v1::FunctionPeer* peer = function.add_peers();
  peer->set_host("10.0.0.2:7480");
  peer->set_service("sink");
  return function;
}

class FunctionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = getenv("TEST_TMPDIR");
    root_ = absl::StrCat(
        tmp != nullptr ? tmp : "/tmp", "/store-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    directory_ = root_ + "/var/lib/swift";
    auto store = FunctionStore::Open(directory_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string root_;
  std::string directory_;
  std::unique_ptr<FunctionStore> store_;
};

TEST_F(FunctionStoreTest, OpenCreatesAnOwnerOnlyDirectory) {
  struct stat info;
  ASSERT_EQ(stat(directory_.c_str(), &info), 0);
  EXPECT_TRUE(S_ISDIR(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0700);
  EXPECT_EQ(info.st_uid, geteuid());
  // Opening it again (a restart) is fine.
  EXPECT_TRUE(FunctionStore::Open(directory_).ok());
}

TEST_F(FunctionStoreTest, RefusesADirectoryOthersMayWrite) {
  ASSERT_EQ(chmod(directory_.c_str(), 0770), 0);
  absl::Status status = FunctionStore::Open(directory_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), directory_)) << status;
  EXPECT_EQ(FunctionStore::Open("relative/dir").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FunctionStore::Open("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Issue 10, finding 8: a state directory reached through a symlink whose
// parent a tenant owns was accepted; the tenant could point it elsewhere
// (or swap the directory) and have swiftd run what it stores there.
TEST_F(FunctionStoreTest, RefusesAPathATenantCouldRedirect) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a directory to another user";
  }
  constexpr uid_t kNobody = 65534;
  const std::string tenant = root_ + "/tenant";
  const std::string real = root_ + "/real";
  (void)!system(absl::StrCat("rm -rf '", tenant, "' '", real, "'").c_str());
  ASSERT_EQ(mkdir(real.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(tenant.c_str(), 0755), 0);
  ASSERT_EQ(chown(tenant.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(symlink(real.c_str(), (tenant + "/link").c_str()), 0);

  // Through the tenant's link to root's own directory.
  absl::Status status = FunctionStore::Open(tenant + "/link").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), tenant + " (mode")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "owned by another user"))
      << status;
  // Below the tenant's directory, and nothing is created there.
  status = FunctionStore::Open(tenant + "/state").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  struct stat info;
  EXPECT_NE(lstat((tenant + "/state").c_str(), &info), 0);

  // A link in a directory only root controls is fine.
  ASSERT_EQ(symlink(real.c_str(), (root_ + "/root_link").c_str()) == 0 ||
                errno == EEXIST,
            true);
  EXPECT_TRUE(FunctionStore::Open(root_ + "/root_link").ok());
}

TEST_F(FunctionStoreTest, SaveLoadRemoveRoundTrip) {
  ASSERT_TRUE(store_->Save(Function("resize")).ok());
  ASSERT_TRUE(store_->Save(Function("encode")).ok());
  std::vector<v1::RegisterFunctionRequest> loaded = store_->LoadAll();
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].name(), "encode");
  v1::RegisterFunctionRequest expected = Function("resize");
  expected.clear_header();  // Never stored.
  EXPECT_EQ(loaded[1].SerializeAsString(), expected.SerializeAsString());
  EXPECT_TRUE(loaded[1].has_spare_instances());  // Presence survives.
  EXPECT_FALSE(loaded[1].has_header());

  // Another store on the same directory (swiftd restarted) sees them.
  auto reopened = FunctionStore::Open(directory_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->LoadAll().size(), 2u);

  ASSERT_TRUE(store_->Remove("resize").ok());
  loaded = store_->LoadAll();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].name(), "encode");
  // Removing what is not there is fine (an unregister after a failed save).
  EXPECT_TRUE(store_->Remove("resize").ok());
  EXPECT_TRUE(store_->Remove("").ok());
  EXPECT_EQ(Entries(directory_),
            std::set<std::string>({"fn-encode.textproto"}));
}

TEST_F(FunctionStoreTest, HostileNamesStayInsideTheDirectory) {
  const std::vector<std::string> names = {"../escape",
                                          "a/b",
                                          "..",
                                          ".",
                                          std::string("nul\0byte", 8),
                                          "%41",
                                          "A",
                                          "/etc/passwd",
                                          "sp ace\n",
                                          "\xff\xfe"};
  for (const std::string& name : names) {
    ASSERT_TRUE(store_->Save(Function(name)).ok()) << name;
  }
  // One plain file per name, all in the directory, none hidden.
  const std::set<std::string> entries = Entries(directory_);
  EXPECT_EQ(entries.size(), names.size());
  for (const std::string& entry : entries) {
    EXPECT_TRUE(absl::StartsWith(entry, "fn-")) << entry;
    EXPECT_FALSE(absl::StrContains(entry, "/")) << entry;
    EXPECT_FALSE(absl::StrContains(entry, "..")) << entry;
  }
  EXPECT_EQ(Entries(root_ + "/var/lib"), std::set<std::string>({"swift"}));

  std::set<std::string> loaded;
  for (const auto& function : store_->LoadAll()) {
    loaded.insert(function.name());
  }
  EXPECT_EQ(loaded, std::set<std::string>(names.begin(), names.end()));

  ASSERT_TRUE(store_->Remove("../escape").ok());
  EXPECT_EQ(store_->LoadAll().size(), names.size() - 1);
}

TEST_F(FunctionStoreTest, RefusesANameTooLongForAFileName) {
  absl::Status status = store_->Save(Function(std::string(300, 'x')));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  status = store_->Save(Function(std::string(100, '/')));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(store_->Save(Function("")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Entries(directory_).empty());
  EXPECT_FALSE(FunctionStore::FileName(std::string(200, 'x')).empty());
  EXPECT_LE(FunctionStore::FileName(std::string(200, 'x')).size(),
            FunctionStore::kMaxFileName);
}

TEST_F(FunctionStoreTest, DamagedFilesAreSkippedAndTheRestLoads) {
  ASSERT_TRUE(store_->Save(Function("good")).ok());
  Write(directory_ + "/fn-garbage.textproto", "\x01\x02 not { a proto");
  Write(directory_ + "/fn-empty.textproto", "");
  // Valid text, but for another name than its file says.
  Write(directory_ + "/fn-renamed.textproto",
        "name: \"other\"\nlibrary_path: \"/f.so\"\n");
  Write(directory_ + "/fn-relative.textproto",
        "name: \"relative\"\nlibrary_path: \"f.so\"\n");
  ASSERT_EQ(mkdir((directory_ + "/fn-dir.textproto").c_str(), 0700), 0);
  ASSERT_EQ(symlink((directory_ + "/fn-good.textproto").c_str(),
                    (directory_ + "/fn-link.textproto").c_str()),
            0);
  // Somebody else's file (only root can make one).
  Write(directory_ + "/fn-writable.textproto",
        "name: \"writable\"\nlibrary_path: \"/f.so\"\n");
  ASSERT_EQ(chmod((directory_ + "/fn-writable.textproto").c_str(), 0666), 0);
  Write(directory_ + "/README", "not ours");
  // A FIFO nobody writes to: opening it plainly blocks for ever.
  ASSERT_EQ(mkfifo((directory_ + "/fn-fifo.textproto").c_str(), 0600), 0);

  std::vector<v1::RegisterFunctionRequest> loaded = store_->LoadAll();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].name(), "good");
  // Skipped files are left for a person to look at.
  EXPECT_TRUE(Entries(directory_).count("fn-garbage.textproto"));
}

TEST_F(FunctionStoreTest, ReplaceIsAtomic) {
  v1::RegisterFunctionRequest first = Function("f");
  first.set_library_path("/first.so");
  ASSERT_TRUE(store_->Save(first).ok());
  const std::string path = directory_ + "/fn-f.textproto";
  // A second name for the first file: an in-place rewrite would change
  // what it holds; a rename leaves it whole.
  const std::string old_link = root_ + "/old";
  ASSERT_EQ(link(path.c_str(), old_link.c_str()), 0);
  const std::string old_text = Read(old_link);

  v1::RegisterFunctionRequest second = Function("f");
  second.set_library_path("/second.so");
  ASSERT_TRUE(store_->Save(second).ok());
  EXPECT_EQ(Read(old_link), old_text);
  EXPECT_TRUE(absl::StrContains(old_text, "/first.so"));
  std::vector<v1::RegisterFunctionRequest> loaded = store_->LoadAll();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].library_path(), "/second.so");
  // No temporary file is left behind; one a crash left is cleaned up.
  EXPECT_EQ(Entries(directory_), std::set<std::string>({"fn-f.textproto"}));
  Write(path + ".tmp.abc123", "name: \"f\"\nlibrary_path: \"/half");
  EXPECT_EQ(store_->LoadAll().size(), 1u);
  EXPECT_EQ(Entries(directory_), std::set<std::string>({"fn-f.textproto"}));
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
}

}  // namespace
}  // namespace swift
