// EtcdKeyValue: one key as etcd answers it (a Range row or a watch event's
// record), in plain types, so that the directory's cache needs no etcd
// protobufs.
#ifndef SWIFT_DAEMON_DIRECTORY_ETCD_KEY_VALUE_H_
#define SWIFT_DAEMON_DIRECTORY_ETCD_KEY_VALUE_H_

#include <cstdint>
#include <string>

namespace swift {

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

// A watch event: the key was written (value set) or deleted.
struct EtcdEvent {
  bool deleted = false;
  EtcdKeyValue kv;
};

}  // namespace swift

#endif  // SWIFT_DAEMON_DIRECTORY_ETCD_KEY_VALUE_H_
