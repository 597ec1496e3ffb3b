// StepTimer: durations land under their names, in order, and render as JSON.
#include "common/verbs/step_timer.h"

#include <gtest/gtest.h>

#include <thread>

namespace swift::verbs {
namespace {

TEST(StepTimerTest, RendersStepsInRecordingOrderWithOneDecimal) {
  StepTimer timer;
  timer.Record("open_device", 239.04);
  timer.Record("alloc_pd", 38.75);
  EXPECT_EQ(timer.StepsJson(), R"({"open_device":239.0,"alloc_pd":38.8})");
}

TEST(StepTimerTest, EmptyTimerIsAnEmptyObject) {
  EXPECT_EQ(StepTimer().StepsJson(), "{}");
}

TEST(StepTimerTest, RepeatedStepAccumulatesInPlace) {
  StepTimer timer;
  timer.Record("create_qp", 100);
  timer.Record("create_cq", 5);
  timer.Record("create_qp", 50);
  ASSERT_EQ(timer.steps().size(), 2u);
  EXPECT_EQ(timer.steps()[0].first, "create_qp");
  EXPECT_DOUBLE_EQ(timer.Micros("create_qp"), 150);
  EXPECT_DOUBLE_EQ(timer.SumMicros(), 155);
  EXPECT_TRUE(timer.Has("create_cq"));
  EXPECT_FALSE(timer.Has("rtr"));
  EXPECT_EQ(timer.Micros("rtr"), 0);
}

TEST(StepTimerTest, TimeMeasuresTheCallAndPassesItsResultThrough) {
  StepTimer timer;
  int result = timer.Time("sleep", [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    return 42;
  });
  EXPECT_EQ(result, 42);
  EXPECT_GE(timer.Micros("sleep"), 3000);
  // Generous upper bound: only catches a unit error (ms vs us vs ns).
  EXPECT_LT(timer.Micros("sleep"), 3000000);
  EXPECT_GE(timer.ElapsedMicros(), timer.Micros("sleep"));

  bool ran = false;
  timer.Time("void_step", [&] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_TRUE(timer.Has("void_step"));
}

TEST(StepTimerTest, RestartForgetsSteps) {
  StepTimer timer;
  timer.Record("a", 1);
  timer.Restart();
  EXPECT_TRUE(timer.steps().empty());
  EXPECT_EQ(timer.StepsJson(), "{}");
}

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote("plain"), R"("plain")");
  EXPECT_EQ(JsonQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonQuote("x\ny\tz"), R"("x\ny\tz")");
  EXPECT_EQ(JsonQuote(std::string("\x01", 1)), R"("\u0001")");
  EXPECT_EQ(JsonQuote("µs"), "\"µs\"");
}

}  // namespace
}  // namespace swift::verbs
