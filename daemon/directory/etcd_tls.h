// EtcdTls: how swiftd talks TLS to the directory's etcd (--directory_ca_file,
// --directory_cert_file, --directory_key_file): the CA that signed etcd's
// server certificates and, for etcd run with --client-cert-auth, this
// host's client certificate and key, as PEM text read once at start.
// Without a CA, swiftd speaks plain gRPC to etcd.
#ifndef SWIFT_DAEMON_DIRECTORY_ETCD_TLS_H_
#define SWIFT_DAEMON_DIRECTORY_ETCD_TLS_H_

#include <string>

#include "absl/status/statusor.h"

namespace swift {

struct EtcdTls {
  std::string ca_pem;    // Empty: no TLS.
  std::string cert_pem;  // Both empty: no client certificate.
  std::string key_pem;

  bool enabled() const { return !ca_pem.empty(); }
};

// ReadEtcdTls()
//
// Reads and checks the three files (empty paths: not given). A client
// certificate needs its key and the CA; the key must be readable by this
// user only (mode 0600 or 0400), as a secret. kInvalidArgument or
// kFailedPrecondition naming the file and what is wrong.
absl::StatusOr<EtcdTls> ReadEtcdTls(const std::string& ca_file,
                                    const std::string& cert_file,
                                    const std::string& key_file);

}  // namespace swift

#endif  // SWIFT_DAEMON_DIRECTORY_ETCD_TLS_H_
