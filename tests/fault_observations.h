// Observe(): what a fault test saw (the error a client got, the verbs
// objects before and after), for the people reading its run. Printed on
// stderr, and appended to the file $FAULT_OBSERVATIONS names, if any: the
// guest harness (tools/testing/guest_tests.sh) shows a test's output only
// when it fails, so a run that wants the figures of passing tests shares a
// host directory into the guest (tools/rxe-vm/run --share DIR --env
// FAULT_OBSERVATIONS=DIR/file).
#ifndef SWIFT_TESTS_FAULT_OBSERVATIONS_H_
#define SWIFT_TESTS_FAULT_OBSERVATIONS_H_

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "gtest/gtest.h"

namespace swift::testing {

// One line, prefixed with the running test's name.
inline void Observe(const std::string& line) {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string text =
      (test != nullptr
           ? std::string(test->test_suite_name()) + "." + test->name() + ": "
           : std::string()) +
      line;
  std::cerr << "OBSERVED " << text << std::endl;
  if (const char* path = std::getenv("FAULT_OBSERVATIONS"); path != nullptr) {
    std::ofstream(path, std::ios::app) << text << "\n";
  }
}

}  // namespace swift::testing

#endif  // SWIFT_TESTS_FAULT_OBSERVATIONS_H_
