// FunctionRestorer: a restore retries on the Backoff schedule until its
// worker starts, ends when unregistered or closed (at once, not after its
// wait), and skips names already taken. The launch is a fake: no process
// but the sleeping worker of a success.
#include "daemon/functions/function_restorer.h"

#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "daemon/functions/testing/registry_testing.h"
#include "daemon/functions/testing/sleeping_worker.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::swift::testing::SleepingWorker;
using ::swift::testing::Spec;
using ::swift::testing::StateOf;

// A launch that fails `failures` times, then starts a sleeping worker;
// records when each attempt began.
class FakeLaunch {
 public:
  explicit FakeLaunch(int failures) : failures_(failures) {}

  FunctionRestorer::Launch launch() {
    return [this](const v1::RegisterFunctionRequest& spec,
                  worker::v1::WorkerReady* ready,
                  const WorkerLauncher::Started& started)
               -> absl::StatusOr<std::shared_ptr<WorkerProcess>> {
      {
        absl::MutexLock lock(&mu_);
        attempts_.push_back(absl::Now());
        if (static_cast<int>(attempts_.size()) <= failures_) {
          return absl::UnavailableError("peer down");
        }
      }
      std::shared_ptr<WorkerProcess> worker = SleepingWorker();
      started(worker);
      ready->set_startup_us(1);
      return worker;
    };
  }

  std::vector<absl::Time> attempts() {
    absl::MutexLock lock(&mu_);
    return attempts_;
  }

 private:
  const int failures_;
  absl::Mutex mu_;
  std::vector<absl::Time> attempts_ ABSL_GUARDED_BY(mu_);
};

std::string AwaitState(const FunctionRegistry& registry,
                       const std::string& name, const std::string& state) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::string seen = StateOf(registry, name);
  while (seen != state && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
    seen = StateOf(registry, name);
  }
  return seen;
}

TEST(FunctionRestorerTest, RetriesOnTheBackoffScheduleUntilTheWorkerStarts) {
  FunctionRegistry registry(nullptr);
  FakeLaunch fake(4);
  FunctionRestorer restorer(&registry, fake.launch(),
                            {absl::Milliseconds(20), absl::Milliseconds(60)});
  restorer.Restore({Spec("f")});
  EXPECT_EQ(AwaitState(registry, "f", "ready"), "ready");
  const std::vector<absl::Time> attempts = fake.attempts();
  ASSERT_EQ(attempts.size(), 5u);
  // Waits of 20, 40, 60 (the cap), 60 ms between the attempts.
  const std::vector<int> waits = {20, 40, 60, 60};
  for (size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(attempts[i + 1] - attempts[i], absl::Milliseconds(waits[i]))
        << "before attempt " << i + 2;
  }
  registry.Close();
}

TEST(FunctionRestorerTest, ClosingTheRegistryEndsAWaitingRestoreAtOnce) {
  FunctionRegistry registry(nullptr);
  FakeLaunch fake(1000);
  FunctionRestorer restorer(&registry, fake.launch(),
                            {absl::Seconds(60), absl::Seconds(60)});
  restorer.Restore({Spec("f"), Spec("g")});
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (fake.attempts().size() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_EQ(StateOf(registry, "f").rfind("failed: peer down, retrying in", 0),
            0u);
  const absl::Time start = absl::Now();
  registry.Close();
  restorer.Join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(fake.attempts().size(), 2u);
}

TEST(FunctionRestorerTest, SkipsNamesTakenAndDoesNothingOnceClosed) {
  FunctionRegistry registry(nullptr);
  ASSERT_TRUE(registry.Add(Spec("f"), SleepingWorker()).ok());
  FakeLaunch fake(0);
  FunctionRestorer restorer(&registry, fake.launch(), {});
  restorer.Restore({Spec("f")});
  restorer.Join();
  EXPECT_TRUE(fake.attempts().empty());
  registry.Close();
  restorer.Restore({Spec("g")});
  restorer.Join();
  EXPECT_TRUE(fake.attempts().empty());
  EXPECT_TRUE(registry.List().empty());
}

}  // namespace
}  // namespace swift
