// NameThisThread(): the name the kernel shows, cut to its 15 bytes, and
// each thread's own.
#include "common/thread_name.h"

#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace swift {
namespace {

TEST(ThreadNameTest, ANameIsShownAndLongOnesAreCut) {
  std::string shown, cut, main_after;
  const std::string main_before = ThisThreadName();
  std::thread([&] {
    NameThisThread("sw-closer");
    shown = ThisThreadName();
    NameThisThread("sw-a-name-longer-than-fifteen");
    cut = ThisThreadName();
  }).join();
  EXPECT_EQ(shown, "sw-closer");
  EXPECT_EQ(cut, "sw-a-name-longe");
  EXPECT_EQ(ThisThreadName(), main_before) << "another thread's name";
}

}  // namespace
}  // namespace swift
