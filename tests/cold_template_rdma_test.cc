// Cold templates on two "hosts" of the Soft-RoCE guest (see
// FunctionRdmaTest): swiftd B keeps one cold template per tenant, and a
// COLD invocation runs in a child forked from it, which loads the
// function, gets QPs connected to the sink through the broker, and WRITEs
// (the bytes checked in the sink's memory). A template serves one tenant
// only (root's and nobody's are distinct processes with their own uids and
// memory limits); a library that no longer loads is reported as a fresh
// worker reports it; a template killed mid-invocation gives its caller a
// clear error, leaves no zombie, and is replaced by the next invocation.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/testing/eventually.h"
#include "common/testing/sanitizer_build.h"
#include "tests/function_rdma_fixture.h"

namespace swift {
namespace {

using ::swift::testing::Eventually;
using ::swift::testing::FunctionRdmaTest;

constexpr int kPeerPort = 17497;
constexpr uid_t kNobody = 65534;
constexpr uint64_t kMemoryLimit = uint64_t{1} << 30;

// Field `index` (after the command) of /proc/PID/stat: 0 state, 1 ppid.
std::string StatField(int64_t pid, int index) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) {
    return "";
  }
  std::vector<std::string> fields =
      absl::StrSplit(line.substr(close + 2), ' ');
  return index < static_cast<int>(fields.size()) ? fields[index] : "";
}

// Children of `pid` (from /proc: whichever thread forked them), and how
// many of them are zombies.
std::vector<int64_t> ChildrenOf(int64_t pid, int* zombies = nullptr) {
  std::vector<int64_t> children;
  DIR* proc = opendir("/proc");
  while (dirent* entry = readdir(proc)) {
    int64_t child = 0;
    if (!absl::SimpleAtoi(entry->d_name, &child) ||
        StatField(child, 1) != std::to_string(pid)) {
      continue;
    }
    children.push_back(child);
    if (zombies != nullptr && StatField(child, 0) == "Z") {
      ++*zombies;
    }
  }
  closedir(proc);
  return children;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

class ColdTemplateRdmaTest : public FunctionRdmaTest {
 protected:
  ColdTemplateRdmaTest() : FunctionRdmaTest(kPeerPort) {
    b_.options.cold_template_idle_timeout = absl::Minutes(2);
    // A tenant's template reaches swiftd B's sockets through their group.
    b_.options.socket_group = "users";
  }

  void SetUp() override {
    // Copies nobody may run and read (Bazel's outputs are root's, 0700),
    // in a directory nobody may enter.
    ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
    worker_ = dir_.path() + "/swift_worker";
    library_ = dir_.path() + "/cold_probe_function.so";
    ASSERT_TRUE(Copy(b_.options.worker_binary, worker_, 0755));
    ASSERT_TRUE(Copy(testing::Absolute(testing::RunfilePath(
                         "tests/cold_probe_function.so")),
                     library_, 0644));
    b_.options.worker_binary = worker_;
    function_library_ = library_;
    FunctionRdmaTest::SetUp();
  }

  static bool Copy(const std::string& from, const std::string& to,
                   mode_t mode) {
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary);
    out << in.rdbuf();
    out.close();
    return in && out && chmod(to.c_str(), mode) == 0;
  }

  void Register(const std::string& name, uid_t uid) {
    v1::RegisterFunctionRequest request = TestFunction(name);
    request.set_uid(uid);
    // ASan reserves ~15 TiB of shadow at start: no address-space limit
    // leaves room for it (tools/sanitizers/README).
    if (uid != 0 && !testing::kAddressSanitizerBuild) {
      request.set_memory_limit_bytes(kMemoryLimit);
    }
    auto registered = client_->RegisterFunction(request);
    ASSERT_TRUE(registered.ok()) << registered.status();
  }

  // A COLD "write:TEXT" of `function`; returns the pid of the template
  // that forked the child (0 on failure), after checking the sink's bytes.
  int64_t ColdWrite(const std::string& function, const std::string& text,
                    int64_t* uid = nullptr) {
    auto invoked = InvokeFunction(function, "write:" + text,
                                  v1::InvokeRequest::COLD);
    EXPECT_TRUE(invoked.ok()) << invoked.status();
    if (!invoked.ok()) {
      return 0;
    }
    EXPECT_EQ(invoked->served_by(), v1::InvokeRequest::COLD);
    EXPECT_EQ(SinkBytes(text.size()), text);
    // "wrote N ppid P uid U"
    std::vector<std::string> words = absl::StrSplit(invoked->result(), ' ');
    int64_t ppid = 0;
    EXPECT_EQ(words.size(), 6u) << invoked->result();
    if (words.size() != 6 || !absl::SimpleAtoi(words[3], &ppid) ||
        (uid != nullptr && !absl::SimpleAtoi(words[5], uid))) {
      return 0;
    }
    EXPECT_EQ(words[1], std::to_string(text.size()));
    EXPECT_NE(invoked->instance_pid(), ppid);
    return ppid;
  }

  std::string worker_;
  std::string library_;
};

TEST_F(ColdTemplateRdmaTest, AColdWriteLandsFromAChildOfTheTenantsTemplate) {
  Register("f", 0);
  int64_t uid = -1;
  const int64_t first = ColdWrite("f", "cold-from-template", &uid);
  ASSERT_GT(first, 0);
  EXPECT_EQ(uid, 0);
  // The template is swiftd B's child (swiftd B runs in this process),
  // a swift_worker --template.
  EXPECT_EQ(StatField(first, 1), std::to_string(getpid()));
  EXPECT_TRUE(absl::StrContains(ReadFile(absl::StrCat("/proc/", first,
                                                      "/cmdline")),
                                "--template"));
  // Asked again, the same template forks the next child.
  EXPECT_EQ(ColdWrite("f", "second-cold-write"), first);
  // The children were reaped: the template has none left.
  EXPECT_TRUE(Eventually([&] { return ChildrenOf(first).empty(); }));
}

TEST_F(ColdTemplateRdmaTest, ATemplateNeverServesAnotherTenant) {
  Register("mine", 0);
  Register("theirs", kNobody);
  int64_t root_uid = -1;
  int64_t nobody_uid = -1;
  const int64_t root_template = ColdWrite("mine", "root-cold", &root_uid);
  const int64_t nobody_template = ColdWrite("theirs", "nobody-cold",
                                            &nobody_uid);
  ASSERT_GT(root_template, 0);
  ASSERT_GT(nobody_template, 0);
  EXPECT_NE(root_template, nobody_template);
  EXPECT_EQ(root_uid, 0);
  EXPECT_EQ(nobody_uid, kNobody);
  // Each template runs as its tenant, within its functions' memory limit.
  EXPECT_TRUE(absl::StrContains(
      ReadFile(absl::StrCat("/proc/", nobody_template, "/status")),
      absl::StrCat("Uid:\t", kNobody, "\t", kNobody)));
  if (!testing::kAddressSanitizerBuild) {
    EXPECT_TRUE(absl::StrContains(
        ReadFile(absl::StrCat("/proc/", nobody_template, "/limits")),
        absl::StrCat(kMemoryLimit)));
  }
  // And keeps serving only its own.
  EXPECT_EQ(ColdWrite("theirs", "nobody-again"), nobody_template);
  EXPECT_EQ(ColdWrite("mine", "root-again"), root_template);
}

TEST_F(ColdTemplateRdmaTest, ALibraryThatNoLongerLoadsIsReportedClearly) {
  Register("f", 0);
  ASSERT_GT(ColdWrite("f", "before"), 0);
  // Still root's and 0644, but no longer a library.
  std::ofstream(library_, std::ios::trunc) << "not an ELF file";
  auto invoked = InvokeFunction("f", "write:after", v1::InvokeRequest::COLD);
  EXPECT_EQ(invoked.status().code(), absl::StatusCode::kNotFound)
      << invoked.status();
  EXPECT_TRUE(absl::StrContains(
      invoked.status().message(),
      absl::StrCat("function 'f': cannot load function library ", library_)))
      << invoked.status();
}

TEST_F(ColdTemplateRdmaTest, KillingTheTemplateMidInvocationIsAClearError) {
  Register("f", 0);
  const int64_t killed = ColdWrite("f", "warming-up");
  ASSERT_GT(killed, 0);
  absl::StatusOr<v1::InvokeResponse> hung;
  std::thread caller([&] {
    hung = InvokeFunction("f", "hang", v1::InvokeRequest::COLD, 20000);
  });
  // The template forked the invocation's child: kill the template.
  ASSERT_TRUE(Eventually([&] { return !ChildrenOf(killed).empty(); },
                         absl::Seconds(20)));
  const std::vector<int64_t> orphans = ChildrenOf(killed);
  const absl::Time start = absl::Now();
  ASSERT_EQ(kill(static_cast<pid_t>(killed), SIGKILL), 0);
  caller.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_EQ(hung.status().code(), absl::StatusCode::kUnavailable)
      << hung.status();
  EXPECT_TRUE(absl::StrContains(
      hung.status().message(),
      absl::StrCat("cold template (pid ", killed, ")")))
      << hung.status();
  EXPECT_TRUE(absl::StrContains(hung.status().message(),
                                "exited during the invocation"))
      << hung.status();
  // No zombie: the template was reaped by swiftd, its child died with it
  // (PR_SET_PDEATHSIG) and was reaped by init.
  int zombies = 0;
  EXPECT_TRUE(Eventually([&] {
    zombies = 0;
    const std::vector<int64_t> children = ChildrenOf(getpid(), &zombies);
    bool alive = false;
    for (int64_t orphan : orphans) {
      alive = alive || kill(static_cast<pid_t>(orphan), 0) == 0;
    }
    return zombies == 0 && !alive &&
           std::find(children.begin(), children.end(), killed) ==
               children.end();
  })) << zombies << " zombie(s)";
  // The next COLD invocation is served, by another template.
  const int64_t next = ColdWrite("f", "after-the-kill");
  EXPECT_GT(next, 0);
  EXPECT_NE(next, killed);
}

}  // namespace
}  // namespace swift
