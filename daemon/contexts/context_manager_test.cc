// ContextManager on the host, with fake contexts (a memfd stands for a
// context's command fd): one holder per context, the pools, the quota,
// refusals passed through, and every context closed when its holder's
// connection ends, its device goes or the manager stops (counts back to
// zero). The verbs side is common/verbs/shareable_context_rdma_test.
#include "daemon/contexts/context_manager.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace swift {
namespace {

struct FakeCounts {
  std::atomic<int> live{0};
  std::atomic<int> opened{0};
  std::atomic<int> handed_out_closed{0};
};

class FakeContext final : public ContextManager::SharedContext {
 public:
  FakeContext(FakeCounts* counts, uint32_t pd_handle)
      : counts_(counts),
        fd_(memfd_create("fake-context", MFD_CLOEXEC)),
        pd_handle_(pd_handle) {
    ++counts_->live;
  }
  ~FakeContext() override {
    --counts_->live;
    if (handed_out_) {
      ++counts_->handed_out_closed;
    }
  }
  absl::StatusOr<UniqueFd> DupCommandFd() const override {
    return UniqueFd(fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
  }
  uint32_t pd_handle() const override { return pd_handle_; }
  void MarkHandedOut() override { handed_out_ = true; }

 private:
  FakeCounts* const counts_;
  const UniqueFd fd_;
  const uint32_t pd_handle_;
  bool handed_out_ = false;
};

ContextManager::Options FakeOptions(FakeCounts* counts, int pool = 0) {
  ContextManager::Options options;
  options.pool_per_device = pool;
  options.open = [counts](const std::string& device)
      -> absl::StatusOr<std::unique_ptr<ContextManager::SharedContext>> {
    if (device == "broken0") {
      return absl::InternalError("ibv_open_device(broken0): I/O error");
    }
    const int n = ++counts->opened;
    return std::make_unique<FakeContext>(counts, 100 + n);
  };
  return options;
}

ContextManager::Holder HolderOf(uint64_t channel, uid_t uid = 1000) {
  return ContextManager::Holder{channel, uid, 4242, "app"};
}

v1::ShareContextCall On(const std::string& device) {
  v1::ShareContextCall call;
  call.set_device(device);
  return call;
}

ino_t InodeOf(int fd) {
  struct stat st = {};
  EXPECT_EQ(fstat(fd, &st), 0);
  return st.st_ino;
}

bool WaitFor(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) {
      return false;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

TEST(ContextManagerTest, AContextGoesToOneHolderAndClosesWithItsConnection) {
  FakeCounts counts;
  ContextManager manager(FakeOptions(&counts));
  absl::StatusOr<ContextManager::Grant> first =
      manager.Share(HolderOf(7), On("mlx5_0"));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<ContextManager::Grant> second =
      manager.Share(HolderOf(8), On("mlx5_0"));
  ASSERT_TRUE(second.ok()) << second.status();

  EXPECT_TRUE(first->fd.valid());
  EXPECT_FALSE(first->result.from_pool());
  EXPECT_NE(first->result.context_id(), second->result.context_id());
  EXPECT_NE(first->result.pd_handle(), second->result.pd_handle());
  EXPECT_NE(InodeOf(first->fd.get()), InodeOf(second->fd.get()))
      << "two holders never share one context";
  EXPECT_EQ(manager.held_count(), 2);
  EXPECT_EQ(manager.CountsByChannel()[7], 1);

  EXPECT_EQ(manager.ReleaseAllOf(7), 1);
  EXPECT_EQ(counts.live, 1);
  EXPECT_EQ(counts.handed_out_closed, 1) << "closed as handed out";
  EXPECT_EQ(manager.ReleaseAllOf(7), 0);
  EXPECT_EQ(manager.ReleaseAllOf(8), 1);
  EXPECT_EQ(counts.live, 0);
  EXPECT_EQ(manager.held_count(), 0);
}

TEST(ContextManagerTest, PooledContextsAreReadyAheadAndEachIsHandedOutOnce) {
  FakeCounts counts;
  ContextManager manager(FakeOptions(&counts, /*pool=*/2));
  EXPECT_EQ(manager.pooled_count(), 0) << "no device pooled yet";
  manager.SetPooledDevices({"mlx5_0"});
  ASSERT_TRUE(WaitFor([&] { return manager.pooled_count("mlx5_0") == 2; }));

  absl::StatusOr<ContextManager::Grant> grant =
      manager.Share(HolderOf(7), On("mlx5_0"));
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_TRUE(grant->result.from_pool());
  ASSERT_TRUE(WaitFor([&] { return manager.pooled_count("mlx5_0") == 2; }))
      << "the pool refills";
  EXPECT_EQ(counts.opened, 3);
  EXPECT_EQ(counts.live, 3);

  // Another device is opened on demand; dropping the pooled one closes
  // its ready contexts but not the one handed out.
  manager.SetPooledDevices({});
  EXPECT_EQ(manager.pooled_count(), 0);
  EXPECT_EQ(counts.live, 1);
  EXPECT_EQ(manager.ReleaseAllOf(7), 1);
  EXPECT_EQ(counts.live, 0);
}

TEST(ContextManagerTest, ATenantHoldsNoMoreThanItsQuota) {
  FakeCounts counts;
  ContextManager::Options options = FakeOptions(&counts);
  options.max_per_tenant = 2;
  ContextManager manager(std::move(options));
  ASSERT_TRUE(manager.Share(HolderOf(1), On("mlx5_0")).ok());
  ASSERT_TRUE(manager.Share(HolderOf(2), On("mlx5_0")).ok());
  absl::StatusOr<ContextManager::Grant> third =
      manager.Share(HolderOf(3), On("mlx5_0"));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("--max_shared_contexts_per_tenant"),
            std::string::npos)
      << third.status();
  EXPECT_EQ(counts.opened, 2) << "a refused call opens nothing";
  EXPECT_TRUE(manager.Share(HolderOf(4, /*uid=*/2000), On("mlx5_0")).ok())
      << "another tenant is not held back";
  manager.ReleaseAllOf(1);
  EXPECT_TRUE(manager.Share(HolderOf(3), On("mlx5_0")).ok());
}

TEST(ContextManagerTest, RefusalsAreAnsweredAndOpenNothing) {
  FakeCounts counts;
  ContextManager::Options options = FakeOptions(&counts);
  options.check_device = [](const std::string& device) {
    if (device == "rxe0") {
      return absl::FailedPreconditionError(
          "share_context: rxe0's provider cannot import a context "
          "(ibv_import_device: Operation not supported)");
    }
    return absl::OkStatus();
  };
  ContextManager manager(std::move(options));
  absl::StatusOr<ContextManager::Grant> rxe =
      manager.Share(HolderOf(1), On("rxe0"));
  ASSERT_FALSE(rxe.ok());
  EXPECT_EQ(rxe.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(rxe.status().message().find("Operation not supported"),
            std::string::npos);

  absl::StatusOr<ContextManager::Grant> unnamed =
      manager.Share(HolderOf(1), On(""));
  EXPECT_EQ(unnamed.status().code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<ContextManager::Grant> broken =
      manager.Share(HolderOf(1), On("broken0"));
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("I/O error"), std::string::npos);
  EXPECT_EQ(counts.live, 0);
  EXPECT_EQ(manager.held_count(), 0) << "failed calls reserve nothing";
}

TEST(ContextManagerTest, APoolThatCannotOpenWaitsBeforeTryingAgain) {
  FakeCounts counts;
  ContextManager::Options options = FakeOptions(&counts, /*pool=*/2);
  options.retry_after = absl::Hours(1);
  std::atomic<int> attempts{0};
  ContextManager::Opener open = options.open;
  options.open = [&attempts, open](const std::string& device) {
    ++attempts;
    return open(device);
  };
  ContextManager manager(std::move(options));
  manager.SetPooledDevices({"broken0"});
  ASSERT_TRUE(WaitFor([&] { return attempts.load() >= 1; }));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(attempts.load(), 1) << "no retry before retry_after";
  EXPECT_EQ(manager.pooled_count(), 0);
}

TEST(ContextManagerTest, AVanishedDeviceClosesItsContextsHeldAndPooled) {
  FakeCounts counts;
  ContextManager manager(FakeOptions(&counts, /*pool=*/1));
  manager.SetPooledDevices({"mlx5_0", "mlx5_1"});
  ASSERT_TRUE(WaitFor([&] { return manager.pooled_count() == 2; }));
  ASSERT_TRUE(manager.Share(HolderOf(1), On("mlx5_0")).ok());
  ASSERT_TRUE(manager.Share(HolderOf(1), On("mlx5_1")).ok());
  ASSERT_TRUE(WaitFor([&] { return manager.pooled_count() == 2; }));
  EXPECT_EQ(counts.live, 4);

  EXPECT_EQ(manager.DeviceRemoved("mlx5_0"), 1);
  EXPECT_EQ(counts.live, 2) << "mlx5_1's held and pooled contexts stay";
  EXPECT_EQ(manager.CountsByChannel()[1], 1);
}

TEST(ContextManagerTest, StoppingClosesEveryContext) {
  FakeCounts counts;
  {
    ContextManager manager(FakeOptions(&counts, /*pool=*/2));
    manager.SetPooledDevices({"mlx5_0"});
    ASSERT_TRUE(WaitFor([&] { return manager.pooled_count() == 2; }));
    ASSERT_TRUE(manager.Share(HolderOf(1), On("mlx5_0")).ok());
  }
  EXPECT_EQ(counts.live, 0);
}

}  // namespace
}  // namespace swift
