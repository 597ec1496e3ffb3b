// Tests of HmacSha256: RFC 4231's vectors, parts, and many threads.
#include "daemon/broker/hmac_sha256.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

std::string Hex(const std::string& bytes) {
  return absl::BytesToHexString(bytes);
}

std::unique_ptr<HmacSha256> Keyed(const std::string& key) {
  absl::StatusOr<std::unique_ptr<HmacSha256>> mac = HmacSha256::Create(key);
  EXPECT_TRUE(mac.ok()) << mac.status();
  return mac.ok() ? *std::move(mac) : nullptr;
}

// RFC 4231, test cases 1, 2 and 6 (a key longer than SHA-256's block).
TEST(HmacSha256Test, GivesTheRfcVectors) {
  EXPECT_EQ(Hex(Keyed(std::string(20, '\x0b'))->Of({"Hi There"})),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(Hex(Keyed("Jefe")->Of({"what do ya want for nothing?"})),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Hex(Keyed(std::string(131, '\xaa'))
                    ->Of({"Test Using Larger Than Block-Size Key - Hash Key "
                          "First"})),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, PartsAreTheirConcatenationAndTheKeyIsKept) {
  std::unique_ptr<HmacSha256> mac = Keyed("Jefe");
  const std::string whole = mac->Of({"what do ya want for nothing?"});
  EXPECT_EQ(mac->Of({"what do ", "", "ya want", " for nothing?"}), whole);
  // Each MAC starts from the key: the first left nothing behind.
  EXPECT_EQ(mac->Of({"what do ya want for nothing?"}), whole);
  EXPECT_EQ(whole.size(), HmacSha256::kBytes);
  EXPECT_NE(mac->Of({"what do ya want for nothing!"}), whole);
  EXPECT_NE(Keyed("Jeff")->Of({"what do ya want for nothing?"}), whole);
}

TEST(HmacSha256Test, ManyThreadsGetTheSameMacs) {
  std::unique_ptr<HmacSha256> mac = Keyed(std::string(32, 'k'));
  const std::string expected = mac->Of({"request", std::string(300, 'b')});
  constexpr int kThreads = 8;
  std::vector<int> right(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        right[t] += mac->Of({"request", std::string(300, 'b')}) == expected;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(right[t], 500) << "thread " << t;
  }
}

}  // namespace
}  // namespace swift
