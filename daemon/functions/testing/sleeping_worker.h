// SleepingWorker(): a WorkerProcess around a process that never answers
// (sleep), for tests of what holds workers (FunctionRegistry,
// FunctionRestorer) without a worker binary. It is not exited() until
// killed; dropping it kills and reaps it.
#ifndef SWIFT_DAEMON_FUNCTIONS_TESTING_SLEEPING_WORKER_H_
#define SWIFT_DAEMON_FUNCTIONS_TESTING_SLEEPING_WORKER_H_

#include <memory>
#include <utility>

#include "common/seqpacket_socket.h"
#include "daemon/functions/process_spawner.h"
#include "daemon/functions/worker_process.h"
#include "gtest/gtest.h"

namespace swift::testing {

// A worker that sleeps; null (with a test failure) if it cannot start.
inline std::shared_ptr<WorkerProcess> SleepingWorker() {
  absl::StatusOr<std::pair<SeqpacketSocket, SeqpacketSocket>> pair =
      SeqpacketSocket::Pair();
  EXPECT_TRUE(pair.ok()) << pair.status();
  SpawnCommand command;
  command.argv = {"/bin/sleep", "1000"};
  absl::StatusOr<std::unique_ptr<OwnedProcess>> process = SpawnProcess(command);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!pair.ok() || !process.ok()) {
    return nullptr;
  }
  return std::make_shared<WorkerProcess>(*std::move(process),
                                         std::move(pair->first));
}

}  // namespace swift::testing

#endif  // SWIFT_DAEMON_FUNCTIONS_TESTING_SLEEPING_WORKER_H_
