// DeviceTable: swiftd's device records and the contexts it holds, by name,
// with a generation counter and change listeners. The state machine of the
// device cache without any verbs call: DeviceCache feeds it what it opened,
// what async events re-read and what vanished; tests feed it fakes.
//
// States per name (device_record.h): Put() makes a record kOpen (with its
// context) or kFailed; UpdatePorts() changes an open record's ports;
// MarkRemoved() makes any record kRemoved and lets go of its context. A
// name that comes back is Put() again (a new record replaces the old).
//
// Contract for other parts (memory leases, sessions) that use a device:
//   - generation() grows by one at every change of any record; a snapshot
//     taken at generation G is current while generation() == G.
//   - Subscribe() registers a listener called after every change, in change
//     order, on the thread that made it, with the record's new state. On
//     kRemoved a holder must drop what it built on the device (PDs, MRs,
//     its Acquire()d context) and fail its users with the change's reason:
//     the kernel closes the device (and `rdma link delete` returns) only
//     when the last holder lets go.
//   - Acquire() hands out the open context; after a removal it fails with
//     kUnavailable naming the reason.
//
// Thread-safe. Changes are serialized, and each one's listeners run after
// it, in generation order, without the records' lock: a listener may read
// the table, but must not change it nor Subscribe()/Unsubscribe().
#ifndef SWIFT_DAEMON_DEVICES_DEVICE_TABLE_H_
#define SWIFT_DAEMON_DEVICES_DEVICE_TABLE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/verbs/context.h"
#include "daemon/devices/device_record.h"

namespace swift {

// What a listener is told.
struct DeviceChange {
  std::string device;
  DeviceState state = DeviceState::kOpen;
  uint64_t generation = 0;
  // What happened: "opened", "PORT_ERR on port 1", the removal's reason.
  std::string what;
};

class DeviceTable final {
 public:
  using Listener = std::function<void(const DeviceChange& change)>;

  DeviceTable() = default;
  DeviceTable(const DeviceTable&) = delete;
  DeviceTable& operator=(const DeviceTable&) = delete;

  // Put()
  //
  // Stores `record` (its state kOpen with a non-null `context`, or
  // kFailed with its error), replacing a record of the same name (whose
  // context, if any, is released). Returns the new generation.
  uint64_t Put(DeviceRecord record, std::shared_ptr<verbs::Context> context);

  // UpdatePorts()
  //
  // Replaces an open device's ports (and GIDs) after `event`. Returns
  // false, changing nothing, when `name` is not open; and when the ports
  // did not change (no generation bump, listeners not called).
  bool UpdatePorts(const std::string& name, std::vector<verbs::PortInfo> ports,
                   const std::string& event);

  // MarkRemoved()
  //
  // Marks `name` kRemoved with `reason` (kUnavailable, say what and what
  // to do), notifies the listeners, then releases the table's context.
  // Returns false when `name` is unknown or already removed.
  bool MarkRemoved(const std::string& name, const absl::Status& reason,
                   const std::string& event);

  // Acquire()
  //
  // The open context of `name`, shared: it stays open while the caller
  // holds it. kNotFound for an unknown name (listing the known ones);
  // kUnavailable for a removed or failed device, with its error.
  absl::StatusOr<std::shared_ptr<verbs::Context>> Acquire(
      const std::string& name) const;

  // Snapshot() / Find()
  //
  // Copies of the records, in the order names first appeared; and the
  // generation they are consistent with.
  std::vector<DeviceRecord> Snapshot(uint64_t* generation = nullptr) const;
  std::optional<DeviceRecord> Find(const std::string& name) const;

  uint64_t generation() const;

  // Subscribe() / Unsubscribe()
  //
  // Registers `listener`; returns its id. After Unsubscribe(id) returns,
  // the listener is not running and will not be called again.
  int Subscribe(Listener listener);
  void Unsubscribe(int id);

 private:
  struct Slot {
    DeviceRecord record;
    std::shared_ptr<verbs::Context> context;
  };

  Slot* FindSlot(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Slot* FindSlot(const std::string& name) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Calls every listener with `change`.
  void Notify(const DeviceChange& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(changes_mu_);

  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(changes_mu_);
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;

  // Held by every change from before it is made until its listeners
  // returned: changes and notifications are serialized, in generation
  // order, and Unsubscribe() waits for a running listener.
  absl::Mutex changes_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::map<int, Listener> listeners_ ABSL_GUARDED_BY(changes_mu_);
  int next_listener_id_ ABSL_GUARDED_BY(changes_mu_) = 1;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_DEVICE_TABLE_H_
