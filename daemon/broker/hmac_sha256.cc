// HmacSha256 implementation; see hmac_sha256.h.
#include "daemon/broker/hmac_sha256.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace swift {
namespace {

// OpenSSL's last error, for a message.
std::string OpensslError() {
  const unsigned long code = ERR_get_error();  // NOLINT(runtime/int)
  if (code == 0) {
    return "no reason given";
  }
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

struct MacFree {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};

}  // namespace

absl::StatusOr<std::unique_ptr<HmacSha256>> HmacSha256::Create(
    absl::string_view key) {
  // The context holds its own reference to the algorithm.
  std::unique_ptr<EVP_MAC, MacFree> mac(
      EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (mac == nullptr) {
    return absl::InternalError(
        absl::StrCat("OpenSSL has no HMAC: ", OpensslError()));
  }
  Context keyed(EVP_MAC_CTX_new(mac.get()));
  if (keyed == nullptr) {
    return absl::InternalError(
        absl::StrCat("OpenSSL cannot make an HMAC context: ", OpensslError()));
  }
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  // A zero-length key is passed as one byte's address: OpenSSL takes a
  // null key to mean "keep the last one".
  static const unsigned char kNoKey = 0;
  const unsigned char* key_bytes =
      key.empty() ? &kNoKey
                  : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(keyed.get(), key_bytes, key.size(), params) != 1) {
    return absl::InternalError(
        absl::StrCat("OpenSSL cannot key HMAC-SHA256: ", OpensslError()));
  }
  return std::unique_ptr<HmacSha256>(new HmacSha256(std::move(keyed)));
}

std::string HmacSha256::Of(
    std::initializer_list<absl::string_view> parts) const {
  Context context(EVP_MAC_CTX_dup(keyed_.get()));
  if (context == nullptr) {
    ERR_clear_error();
    return std::string();
  }
  for (absl::string_view part : parts) {
    if (EVP_MAC_update(context.get(),
                       reinterpret_cast<const unsigned char*>(part.data()),
                       part.size()) != 1) {
      ERR_clear_error();
      return std::string();
    }
  }
  std::string mac(kBytes, '\0');
  size_t length = 0;
  if (EVP_MAC_final(context.get(), reinterpret_cast<unsigned char*>(mac.data()),
                    &length, mac.size()) != 1 ||
      length != kBytes) {
    ERR_clear_error();
    return std::string();
  }
  return mac;
}

}  // namespace swift
