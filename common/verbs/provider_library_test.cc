// ProviderDriverName() on the file names libibverbs' providers have.
#include "common/verbs/provider_library.h"

#include <gtest/gtest.h>

namespace swift::verbs {
namespace {

TEST(ProviderLibraryTest, DriverNameComesFromTheRdmavFileName) {
  EXPECT_EQ(ProviderDriverName(
                "/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so"),
            "rxe");
  EXPECT_EQ(ProviderDriverName("libsiw-rdmav34.so"), "siw");
  EXPECT_EQ(ProviderDriverName("libvmw_pvrdma-rdmav34.so"), "vmw_pvrdma");
}

TEST(ProviderLibraryTest, DriverNameOfAPlainSharedLibrary) {
  EXPECT_EQ(ProviderDriverName("/usr/lib/x86_64-linux-gnu/libmlx5.so.1"),
            "mlx5");
}

TEST(ProviderLibraryTest, UnrecognizedNamesGiveNothing) {
  EXPECT_EQ(ProviderDriverName(""), "");
  EXPECT_EQ(ProviderDriverName("/opt/provider"), "");
  EXPECT_EQ(ProviderDriverName("/opt/lib/notalib"), "");
}

TEST(ProviderLibraryTest, NullContextIsInvalid) {
  EXPECT_EQ(FindProviderLibrary(nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace swift::verbs
