// Tests of LabelCap.
#include "daemon/metrics/label_cap.h"

#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(LabelCapTest, KeepsTheFirstValuesAndFoldsTheRestIntoOther) {
  LabelCap cap(2);
  EXPECT_EQ(cap.Value("1000"), "1000");
  EXPECT_EQ(cap.Value("1001"), "1001");
  EXPECT_EQ(cap.Value("1002"), "other");
  // Admitted values stay admitted.
  EXPECT_EQ(cap.Value("1000"), "1000");
  EXPECT_EQ(cap.Value("1003"), "other");
  EXPECT_EQ(cap.size(), 2u);
}

TEST(LabelCapTest, AdmitsNoMoreThanItsCapFromManyThreads) {
  LabelCap cap(10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cap, t] {
      for (int i = 0; i < 100; ++i) {
        cap.Value(std::to_string(t * 100 + i));
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(cap.size(), 10u);
}

}  // namespace
}  // namespace swift
