// DispatcherForCpu; see dispatcher_table.h.
#include "client/wait/dispatcher_table.h"

#include <pthread.h>
#include <sched.h>

#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace swift::wait_internal {
namespace {

struct Table {
  absl::Mutex mu;
  absl::flat_hash_map<int, Dispatcher*> by_cpu ABSL_GUARDED_BY(mu);
};

// Never destroyed: dispatcher threads run until the process exits, and
// waiters may be destroyed during static destruction.
Table* table = nullptr;

void ForgetParentsDispatchers() {
  // The child's only thread is the one that forked. The parent's table
  // (its mutex perhaps held by another parent thread) is abandoned: its
  // dispatchers' threads are not in this process.
  table = new Table;
}

Table& TheTable() {
  static std::once_flag once;
  std::call_once(once, [] {
    table = new Table;
    pthread_atfork(nullptr, nullptr, ForgetParentsDispatchers);
  });
  return *table;
}

}  // namespace

absl::StatusOr<Dispatcher*> DispatcherForCpu(int cpu) {
  Table& dispatchers = TheTable();
  absl::MutexLock lock(&dispatchers.mu);
  auto it = dispatchers.by_cpu.find(cpu);
  if (it != dispatchers.by_cpu.end()) {
    return it->second;
  }
  absl::StatusOr<std::unique_ptr<Dispatcher>> started = Dispatcher::Start(cpu);
  if (!started.ok()) {
    return started.status();
  }
  Dispatcher* dispatcher = started->release();
  dispatchers.by_cpu[cpu] = dispatcher;
  return dispatcher;
}

int CurrentCpu() {
  const int cpu = sched_getcpu();
  return cpu < 0 ? 0 : cpu;
}

}  // namespace swift::wait_internal
