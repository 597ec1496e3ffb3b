// MetricsExporter serves its collectables over HTTP in the exposition
// format, refuses an address it cannot have with the flag's name, and
// stops serving when destroyed.
#include "daemon/metrics/metrics_exporter.h"

#include <memory>

#include "absl/strings/match.h"
#include "daemon/metrics/family_builder.h"
#include "daemon/metrics/testing/http_get.h"
#include "gtest/gtest.h"

namespace swift {
namespace {

using ::swift::testing::HttpGet;
using ::swift::testing::HttpResponse;

// One counter whose value the test sets.
class FixedCollectable final : public prometheus::Collectable {
 public:
  explicit FixedCollectable(double value) : value_(value) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    FamilyBuilder("swift_test_things_total", "Things the test did.",
                  prometheus::MetricType::Counter)
        .Add({{"kind", "a"}}, value_)
        .AppendTo(&families);
    return families;
  }

 private:
  const double value_;
};

TEST(MetricsExporterTest, ServesItsCollectablesOnMetrics) {
  absl::StatusOr<std::unique_ptr<MetricsExporter>> exporter =
      MetricsExporter::Start(MetricsAddress{"127.0.0.1", 0},
                             {std::make_shared<FixedCollectable>(42)});
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  ASSERT_NE((*exporter)->port(), 0);
  absl::StatusOr<HttpResponse> response =
      HttpGet((*exporter)->port(), "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(absl::StrContains(response->body,
                                "# TYPE swift_test_things_total counter"))
      << response->body;
  EXPECT_TRUE(absl::StrContains(response->body,
                                "swift_test_things_total{kind=\"a\"} 42"))
      << response->body;
}

TEST(MetricsExporterTest, APortInUseIsAnErrorNamingTheFlag) {
  absl::StatusOr<std::unique_ptr<MetricsExporter>> first =
      MetricsExporter::Start(MetricsAddress{"127.0.0.1", 0}, {});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<MetricsExporter>> second =
      MetricsExporter::Start(MetricsAddress{"127.0.0.1", (*first)->port()}, {});
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::StrContains(second.status().message(), "--metrics_address"))
      << second.status();
  EXPECT_TRUE(absl::StrContains(second.status().message(), "in use"))
      << second.status();
}

TEST(MetricsExporterTest, StopsServingWhenDestroyed) {
  absl::StatusOr<std::unique_ptr<MetricsExporter>> exporter =
      MetricsExporter::Start(MetricsAddress{"127.0.0.1", 0},
                             {std::make_shared<FixedCollectable>(1)});
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  const uint16_t port = (*exporter)->port();
  ASSERT_TRUE(HttpGet(port, "/metrics").ok());
  exporter->reset();
  const absl::StatusOr<HttpResponse> after = HttpGet(port, "/metrics");
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable)
      << after.status();
}

}  // namespace
}  // namespace swift
