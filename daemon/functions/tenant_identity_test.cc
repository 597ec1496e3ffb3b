// Tests of TenantIdentity: how swiftd resolves the uid/gid/groups a
// function's worker runs as, and that applying them in a forked child
// leaves exactly that identity (no root groups kept). Switching users needs
// root: run unprivileged, the tests that need it skip, saying why.
#include "daemon/functions/tenant_identity.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/testing/unix_socket_testing.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

// nobody/nogroup on Debian; the user database gives its primary group.
constexpr uid_t kNobody = 65534;
// A group that is neither root's nor nobody's primary group. It need not
// exist: a socket file's group is a number.
constexpr gid_t kSocketGroup = 4242;

// A uid with no entry in the user database.
uid_t UnknownUid() {
  for (uid_t uid = 3999000000u;; ++uid) {
    if (getpwuid(uid) == nullptr) {
      return uid;
    }
  }
}

// What a child reported after ApplyTenantIdentity(): fixed-size, so one
// write() on a pipe carries it whole.
struct ChildIdentity {
  int applied = 0;  // 1 when ApplyTenantIdentity() returned true.
  int apply_errno = 0;
  uid_t uid = 0;
  uid_t euid = 0;
  gid_t gid = 0;
  gid_t egid = 0;
  int group_count = 0;
  gid_t groups[64] = {};
  // 0 when the child could connect to the socket, else its errno.
  int connect_errno = 0;
};

class TenantIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/swift-tenant-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    // Searchable by anyone: only the socket file's own mode and group may
    // decide whether a tenant gets in.
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    socket_path_ = dir_ + "/swiftd.sock";
    listener_ = testing::BindUnixSocket(socket_path_, SOCK_STREAM,
                                        /*listen_too=*/true);
  }
  void TearDown() override {
    std::string command = "rm -rf " + dir_;
    ASSERT_EQ(system(command.c_str()), 0);
  }

  // Gives the socket file `mode` and `group` (root owns it).
  void SetSocket(mode_t mode, gid_t group) {
    ASSERT_EQ(chown(socket_path_.c_str(), 0, group), 0) << strerror(errno);
    ASSERT_EQ(chmod(socket_path_.c_str(), mode), 0) << strerror(errno);
  }

  // Forks a child that applies `identity`, then tries to connect to the
  // socket, and reports what it became.
  ChildIdentity ApplyInChild(const TenantIdentity& identity) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      ChildIdentity child;
      child.applied = ApplyTenantIdentity(identity) ? 1 : 0;
      child.apply_errno = child.applied ? 0 : errno;
      child.uid = getuid();
      child.euid = geteuid();
      child.gid = getgid();
      child.egid = getegid();
      child.group_count = getgroups(64, child.groups);
      UniqueFd socket_fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_un address = {};
      address.sun_family = AF_UNIX;
      std::strncpy(address.sun_path, socket_path_.c_str(),
                   sizeof(address.sun_path) - 1);
      child.connect_errno =
          connect(socket_fd.get(), reinterpret_cast<sockaddr*>(&address),
                  sizeof(address)) == 0
              ? 0
              : errno;
      const bool written = write(fds[1], &child, sizeof(child)) ==
                           static_cast<ssize_t>(sizeof(child));
      _exit(written ? 0 : 1);
    }
    close(fds[1]);
    ChildIdentity child;
    EXPECT_EQ(read(fds[0], &child, sizeof(child)),
              static_cast<ssize_t>(sizeof(child)));
    close(fds[0]);
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return child;
  }

  std::string dir_;
  std::string socket_path_;
  UniqueFd listener_;
};

TEST_F(TenantIdentityTest, UidZeroRunsAsSwiftdWithoutSwitching) {
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(0, 0, {socket_path_});
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_FALSE(identity->switch_user);
  EXPECT_TRUE(identity->groups.empty());
}

TEST_F(TenantIdentityTest, ApplyingUidZeroLeavesTheChildAsItWas) {
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(0, 0, {socket_path_});
  ASSERT_TRUE(identity.ok()) << identity.status();
  const ChildIdentity child = ApplyInChild(*identity);
  EXPECT_EQ(child.applied, 1);
  EXPECT_EQ(child.uid, getuid());
  EXPECT_EQ(child.gid, getgid());
  EXPECT_EQ(child.group_count, getgroups(0, nullptr));
}

// The tests that switch users. Unprivileged, swiftd refuses any other
// user (checked here), and they skip.
class TenantIdentityAsRootTest : public TenantIdentityTest {
 protected:
  void SetUp() override {
    TenantIdentityTest::SetUp();
    if (geteuid() != 0) {
      EXPECT_EQ(
          ResolveTenantIdentity(kNobody, 0, {socket_path_}).status().code(),
          absl::StatusCode::kPermissionDenied);
      GTEST_SKIP() << "switching users needs root: swiftd answers "
                      "kPermissionDenied (checked), the rest cannot run";
    }
  }
};

TEST_F(TenantIdentityAsRootTest,
       GidZeroMeansThePrimaryGroupFromTheUserDatabase) {
  passwd* nobody = getpwuid(kNobody);
  ASSERT_NE(nobody, nullptr) << "no user " << kNobody << " on this host";
  SetSocket(0666, 0);
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(kNobody, 0, {socket_path_});
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_TRUE(identity->switch_user);
  EXPECT_EQ(identity->uid, kNobody);
  EXPECT_EQ(identity->gid, nobody->pw_gid);
}

TEST_F(TenantIdentityAsRootTest, AnExplicitGidWins) {
  SetSocket(0666, 0);
  // The user database is not consulted: an unknown uid works with a gid.
  const uid_t unknown = UnknownUid();
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(unknown, 5555, {socket_path_});
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->uid, unknown);
  EXPECT_EQ(identity->gid, 5555u);
}

TEST_F(TenantIdentityAsRootTest, AnUnknownUidWithoutGidIsInvalid) {
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(UnknownUid(), 0, {socket_path_});
  EXPECT_EQ(identity.status().code(), absl::StatusCode::kInvalidArgument)
      << identity.status();
  EXPECT_TRUE(absl::StrContains(identity.status().message(), "gid"))
      << identity.status();
}

TEST_F(TenantIdentityAsRootTest,
       ARootOnlySocketIsAFailedPreconditionNamingTheFlag) {
  SetSocket(0600, 0);
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(kNobody, 0, {socket_path_});
  EXPECT_EQ(identity.status().code(), absl::StatusCode::kFailedPrecondition)
      << identity.status();
  EXPECT_TRUE(absl::StrContains(identity.status().message(), "--socket_group"))
      << identity.status();
  EXPECT_TRUE(absl::StrContains(identity.status().message(), socket_path_))
      << identity.status();
}

TEST_F(TenantIdentityAsRootTest, AGroupWritableRootGroupSocketIsRefusedToo) {
  // 0660 root:root is swiftd's default without --socket_group: joining
  // group 0 would hand the worker root's group, so it is not an option.
  SetSocket(0660, 0);
  EXPECT_EQ(ResolveTenantIdentity(kNobody, 0, {socket_path_}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(TenantIdentityAsRootTest, AGroupWritableSocketAddsItsGroup) {
  SetSocket(0660, kSocketGroup);
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(kNobody, 0, {socket_path_});
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->groups, std::vector<gid_t>{kSocketGroup});
}

TEST_F(TenantIdentityAsRootTest, TheSocketGroupIsAddedOnceForTwoSockets) {
  SetSocket(0660, kSocketGroup);
  // swiftd passes its gRPC socket and its fast path socket, same group.
  const std::string fast_path = dir_ + "/swiftd.fast.sock";
  UniqueFd fast = testing::BindUnixSocket(fast_path, SOCK_SEQPACKET,
                                          /*listen_too=*/true);
  ASSERT_EQ(chown(fast_path.c_str(), 0, kSocketGroup), 0);
  ASSERT_EQ(chmod(fast_path.c_str(), 0660), 0);
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(kNobody, 0, {socket_path_, fast_path});
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->groups, std::vector<gid_t>{kSocketGroup});
}

TEST_F(TenantIdentityAsRootTest, ASocketOfTheTenantsOwnGroupAddsNoGroup) {
  SetSocket(0660, 7777);
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(kNobody, 7777, {socket_path_});
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->gid, 7777u);
  EXPECT_TRUE(identity->groups.empty());
}

TEST_F(TenantIdentityAsRootTest, AWorldWritableSocketAddsNoGroup) {
  SetSocket(0666, kSocketGroup);
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(kNobody, 0, {socket_path_});
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_TRUE(identity->groups.empty());
}

TEST_F(TenantIdentityAsRootTest, AMissingSocketIsNotChecked) {
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(kNobody, 0, {dir_ + "/not-yet.sock"});
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_TRUE(identity->groups.empty());
}

TEST_F(TenantIdentityAsRootTest, AChildBecomesExactlyTheResolvedIdentity) {
  passwd* nobody = getpwuid(kNobody);
  ASSERT_NE(nobody, nullptr) << "no user " << kNobody << " on this host";
  SetSocket(0660, kSocketGroup);
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(kNobody, 0, {socket_path_});
  ASSERT_TRUE(identity.ok()) << identity.status();

  const ChildIdentity child = ApplyInChild(*identity);
  ASSERT_EQ(child.applied, 1) << strerror(child.apply_errno);
  EXPECT_EQ(child.uid, kNobody);
  EXPECT_EQ(child.euid, kNobody);
  EXPECT_EQ(child.gid, nobody->pw_gid);
  EXPECT_EQ(child.egid, nobody->pw_gid);
  // Exactly the socket's group: none of root's supplementary groups.
  ASSERT_EQ(child.group_count, 1);
  EXPECT_EQ(child.groups[0], kSocketGroup);
  // And the group is what lets it in.
  EXPECT_EQ(child.connect_errno, 0) << strerror(child.connect_errno);
}

TEST_F(TenantIdentityAsRootTest, AChildWithoutTheSocketGroupIsShutOut) {
  // The control for the test above: the same socket, the identity with its
  // group taken away, and the kernel says no.
  SetSocket(0660, kSocketGroup);
  absl::StatusOr<TenantIdentity> identity =
      ResolveTenantIdentity(kNobody, 0, {socket_path_});
  ASSERT_TRUE(identity.ok()) << identity.status();
  identity->groups.clear();

  const ChildIdentity child = ApplyInChild(*identity);
  ASSERT_EQ(child.applied, 1) << strerror(child.apply_errno);
  EXPECT_EQ(child.group_count, 0);
  EXPECT_EQ(child.connect_errno, EACCES) << strerror(child.connect_errno);
}

}  // namespace
}  // namespace swift
