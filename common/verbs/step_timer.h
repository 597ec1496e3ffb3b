// StepTimer: where the time of a multi-step operation goes, in microseconds.
//
// Every Swift benchmark reports a per-step breakdown (device list, open, PD,
// MR, CQ, QP, each modify_qp, ...) next to its total, so a regression points
// at the step that grew. StepTimer records named durations in the order the
// steps first ran and renders them as a JSON object:
//
//   StepTimer timer;
//   SWIFT_ASSIGN_OR_RETURN(auto pd, timer.Time("alloc_pd", [&] {
//     return Pd::Allocate(context);
//   }));
//   std::cout << timer.StepsJson();   // {"alloc_pd":38.7}
//
// Durations come from the monotonic clock (std::chrono::steady_clock).
//
// Thread-compatible: one thread records at a time; a const StepTimer may be
// read from several threads.
#ifndef SWIFT_COMMON_VERBS_STEP_TIMER_H_
#define SWIFT_COMMON_VERBS_STEP_TIMER_H_

#include <chrono>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace swift::verbs {

class StepTimer final {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts the total clock (see ElapsedMicros()).
  StepTimer() : start_(Clock::now()) {}

  StepTimer(const StepTimer&) = default;
  StepTimer& operator=(const StepTimer&) = default;

  // Time()
  //
  // Runs `fn()`, adds its wall duration to step `name` and returns what `fn`
  // returned. The duration is recorded even when `fn` reports an error (a
  // failed step still took time), but not if `fn` throws (Swift does not).
  template <typename Fn>
  auto Time(absl::string_view name, Fn&& fn) -> decltype(fn()) {
    const Clock::time_point begin = Clock::now();
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      Record(name, MicrosBetween(begin, Clock::now()));
    } else {
      auto result = fn();
      Record(name, MicrosBetween(begin, Clock::now()));
      return result;
    }
  }

  // Record()
  //
  // Adds `micros` to step `name`. A step recorded more than once accumulates
  // (e.g. two create_qp calls are one "create_qp" entry with their sum); a new
  // name is appended after the existing ones.
  void Record(absl::string_view name, double micros);

  // Micros()
  //
  // The accumulated microseconds of step `name`, 0 if it never ran.
  double Micros(absl::string_view name) const;

  // Whether step `name` was recorded at least once.
  bool Has(absl::string_view name) const;

  // The steps in the order they were first recorded, with their microseconds.
  const std::vector<std::pair<std::string, double>>& steps() const {
    return steps_;
  }

  // SumMicros()
  //
  // The sum of all recorded steps. Less than ElapsedMicros() by whatever ran
  // between the timed steps.
  double SumMicros() const;

  // ElapsedMicros()
  //
  // Wall time since construction or the last Restart().
  double ElapsedMicros() const { return MicrosBetween(start_, Clock::now()); }

  // Restart()
  //
  // Forgets every step and restarts the total clock.
  void Restart();

  // StepsJson()
  //
  // The steps as one JSON object, in recording order, with microseconds to
  // one decimal place: {"get_device_list":1140.2,"open_device":239.0}.
  // Names are JSON-escaped. An empty timer renders as {}.
  std::string StepsJson() const;

  // MicrosBetween()
  //
  // The duration from `begin` to `end` in (fractional) microseconds.
  static double MicrosBetween(Clock::time_point begin, Clock::time_point end) {
    return std::chrono::duration<double, std::micro>(end - begin).count();
  }

 private:
  Clock::time_point start_;
  std::vector<std::pair<std::string, double>> steps_;
};

// JsonQuote()
//
// `text` as a JSON string literal, quotes included: escapes '"', '\\' and
// control characters (as \n, \t, ... or \u00XX). Bytes >= 0x80 pass through,
// so UTF-8 stays UTF-8.
std::string JsonQuote(absl::string_view text);

}  // namespace swift::verbs

#endif  // SWIFT_COMMON_VERBS_STEP_TIMER_H_
