// DeviceSubscription: a DeviceTable listener held for as long as this
// object lives (Subscribe() here, Unsubscribe() on destruction, which waits
// for a call in progress), so that whoever the listener reaches may be
// destroyed right after it.
#ifndef SWIFT_DAEMON_DEVICES_DEVICE_SUBSCRIPTION_H_
#define SWIFT_DAEMON_DEVICES_DEVICE_SUBSCRIPTION_H_

#include <utility>

#include "daemon/devices/device_table.h"

namespace swift {

class DeviceSubscription final {
 public:
  // `table` must outlive this.
  DeviceSubscription(DeviceTable* table, DeviceTable::Listener listener)
      : table_(table), id_(table->Subscribe(std::move(listener))) {}
  DeviceSubscription(const DeviceSubscription&) = delete;
  DeviceSubscription& operator=(const DeviceSubscription&) = delete;
  ~DeviceSubscription() { table_->Unsubscribe(id_); }

 private:
  DeviceTable* const table_;
  const int id_;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DEVICES_DEVICE_SUBSCRIPTION_H_
