// MakeTestPki(); see test_pki.h.
#include "tests/test_pki.h"

#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/testing/command_testing.h"

namespace swift::testing {
namespace {

// "openssl ARGS" in `dir`; its stderr in the error.
absl::Status OpenSsl(const std::string& dir, const std::string& args) {
  CommandResult result =
      RunCommand(absl::StrCat("cd ", dir, " && openssl ", args));
  if (result.exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("openssl ", args, ": ", result.err));
  }
  return absl::OkStatus();
}

// A P-256 key and a certificate for `name` signed by ca.crt/ca.key, valid
// for `san` (a subjectAltName value).
absl::Status Issue(const std::string& dir, const std::string& name,
                   const std::string& san) {
  {
    std::ofstream extensions(absl::StrCat(dir, "/", name, ".ext"));
    extensions << "subjectAltName=" << san << "\n";
  }
  if (absl::Status made = OpenSsl(
          dir, absl::StrCat("req -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                            "-nodes -keyout ",
                            name, ".key -out ", name, ".csr -subj /CN=", name));
      !made.ok()) {
    return made;
  }
  return OpenSsl(dir, absl::StrCat("x509 -req -in ", name,
                                   ".csr -CA ca.crt -CAkey ca.key "
                                   "-CAcreateserial -days 2 -out ",
                                   name, ".crt -extfile ", name, ".ext"));
}

absl::Status NewCa(const std::string& dir, const std::string& name) {
  return OpenSsl(dir, absl::StrCat("req -x509 -newkey ec -pkeyopt "
                                   "ec_paramgen_curve:P-256 -nodes -keyout ",
                                   name, ".key -out ", name,
                                   ".crt -days 2 -subj /CN=", name));
}

}  // namespace

absl::StatusOr<TestPki> MakeTestPki(const std::string& dir) {
  for (absl::Status step :
       {NewCa(dir, "ca"), Issue(dir, "server", "IP:127.0.0.1"),
        Issue(dir, "client", "DNS:swiftd-client"), NewCa(dir, "other-ca")}) {
    if (!step.ok()) return step;
  }
  CommandResult chmod = RunCommand(absl::StrCat("chmod 0600 ", dir, "/*.key"));
  if (chmod.exit_code != 0) return absl::InternalError(chmod.err);
  TestPki pki;
  pki.ca_cert = dir + "/ca.crt";
  pki.server_cert = dir + "/server.crt";
  pki.server_key = dir + "/server.key";
  pki.client_cert = dir + "/client.crt";
  pki.client_key = dir + "/client.key";
  pki.other_ca_cert = dir + "/other-ca.crt";
  return pki;
}

}  // namespace swift::testing
