// Prometheus metrics: FastStream's families, counted from what the core's actors did, on the
// in-memory broker; and the brook_* families read from the app's counters.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <brook/app.hpp>
#include <brook/memory/broker.hpp>
#include <brook/middleware.hpp>
#include <brook/telemetry/metrics.hpp>
#include <stdexcept>
#include <string>

#include "../support/eventually.hpp"
#include "../support/http_get.hpp"
#include "../unit/test_types.hpp"

using brook_test_support::eventually;
using brook_test_support::sample;

namespace {

/// Skips messages with a `dup` header (what a dedup middleware does).
struct skip_dups final : brook::middleware::shared {
  brook::middleware::admission admit(const brook::middleware::admission_query& q) override {
    if (q.header("dup"))
      return brook::middleware::admission::skip("duplicate");
    return brook::middleware::admission::go();
  }
};

double value(const std::string& text, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  auto v = sample(text, name, labels);
  EXPECT_TRUE(v) << "no sample " << name << " in\n" << text;
  return v.value_or(-1);
}

TEST(Metrics, FastStreamFamiliesCountEveryOutcome) {
  brook::memory::broker broker;
  brook::telemetry::metrics metrics{{.labels = {{"env", "test"}}}};
  broker.subscriber("orders")
      .publisher("receipts")
      .labels({{"team", "payments"}})
      .middleware(std::make_shared<skip_dups>())
      .handle([](const tt::order& o) -> tt::receipt {
        if (o.id == "reject")
          throw brook::reject_message{};
        if (o.qty < 0)
          throw std::invalid_argument("qty must not be negative");
        return {o.id, o.qty * 2};
      });
  std::atomic<int> receipts{0};
  broker.subscriber("receipts").handle([&](const tt::receipt&) { ++receipts; });
  brook::app app{broker, {.title = "shop"}};
  app.observe(metrics.observer());
  app.start({.workers = 1, .log_level = "off"});

  std::size_t bytes = 0;
  auto send = [&](const std::string& body, brook::publish_options o = {}) {
    bytes += body.size();
    ASSERT_FALSE(broker.publish("orders", boost::json::parse(body), std::move(o)));
  };
  for (int i = 0; i < 5; ++i)
    send(R"({"id":"o)" + std::to_string(i) + R"(","qty":1})");
  send(R"({"id":"n1","qty":-1})");
  send(R"({"id":"n2","qty":-2})");
  send(R"({"id":"reject","qty":1})");
  brook::publish_options dup;
  dup.headers.set("dup", "1");
  send(R"({"id":"d","qty":1})", dup);
  ASSERT_FALSE(broker.publish("orders", std::string{"{not json"}));
  bytes += 9;
  ASSERT_TRUE(eventually([&] {
    auto s = app.stats();
    return receipts.load() == 5 && s.at(0).processed + s.at(0).failed + s.at(0).skipped == 10;
  }));
  auto text = metrics.text();
  std::map<std::string, std::string> h{{"app_name", "shop"},
                                       {"broker", "memory"},
                                       {"handler", "orders"},
                                       {"team", "payments"},
                                       {"env", "test"}};
  auto with = [](auto l, std::string k, std::string v) {
    l[k] = v;
    return l;
  };
  EXPECT_EQ(value(text, "faststream_received_messages_total", h), 10);
  EXPECT_EQ(value(text, "faststream_received_messages_in_process", h), 0);
  EXPECT_EQ(value(text, "faststream_received_messages_size_bytes_count", h), 10);
  EXPECT_EQ(value(text, "faststream_received_messages_size_bytes_sum", h),
            static_cast<double>(bytes));
  // FastStream's buckets: 16 B .. 16 MiB; every body here is under 64 bytes.
  EXPECT_EQ(value(text, "faststream_received_messages_size_bytes_bucket", with(h, "le", "64")), 10);
  auto processed = "faststream_received_processed_messages_total";
  EXPECT_EQ(value(text, processed, with(h, "status", "acked")), 5);
  EXPECT_EQ(value(text, processed, with(h, "status", "error")), 3);  // 2 handler errors, 1 body
  EXPECT_EQ(value(text, processed, with(h, "status", "rejected")), 1);
  EXPECT_EQ(value(text, processed, with(h, "status", "skipped")), 1);
  EXPECT_EQ(value(text, processed, with(h, "status", "nacked")), 0);
  EXPECT_EQ(value(text, "faststream_received_processed_messages_duration_seconds_count", h), 10);
  auto exceptions = "faststream_received_processed_messages_exceptions_total";
  EXPECT_EQ(value(text, exceptions, with(h, "exception_type", "std::invalid_argument")), 2);
  EXPECT_EQ(value(text, exceptions, with(h, "exception_type", "decode_failure")), 1);
  EXPECT_FALSE(sample(text, exceptions, with(h, "exception_type", "reject_message")))
      << "control exceptions are not errors";
  std::map<std::string, std::string> d{
      {"app_name", "shop"}, {"broker", "memory"}, {"destination", "receipts"}, {"env", "test"}};
  EXPECT_EQ(value(text, "faststream_published_messages_total", with(d, "status", "success")), 5);
  EXPECT_EQ(value(text, "faststream_published_messages_total", with(d, "status", "error")), 0);
  EXPECT_EQ(value(text, "faststream_published_messages_duration_seconds_count", d), 5);
  // The direct publishes of this test are counted under their destination too.
  EXPECT_EQ(value(text, "faststream_published_messages_total",
                  with(with(d, "destination", "orders"), "status", "success")),
            10);
  // brook's own families, from the app's counters.
  EXPECT_EQ(value(text, "brook_subscriber_ready", h), 1);
  EXPECT_EQ(value(text, "brook_subscriber_in_flight", h), 0);
  EXPECT_EQ(value(text, "brook_messages_decode_errors_total", h), 1);
  EXPECT_EQ(value(text, "brook_messages_dropped_total", with(h, "reason", "handler_died")), 0);
  EXPECT_EQ(value(text, "brook_connection_up", {{"app_name", "shop"}, {"broker", "memory"}}), 1);
  app.stop();
  // After stop the last counters stay readable.
  EXPECT_EQ(value(metrics.text(), "brook_subscriber_ready", h), 1);
}

TEST(Metrics, ARetriedFailureCountsOneExceptionPerAttemptAndOneOutcome) {
  brook::memory::broker broker;
  brook::telemetry::metrics metrics{{.app_name = "retrier"}};
  std::atomic<int> calls{0};
  broker.subscriber("jobs")
      .retry({.max_attempts = 3,
              .backoff = {.initial = std::chrono::milliseconds{1},
                          .max = std::chrono::milliseconds{2}}})
      .handle([&](std::string) {
        if (++calls < 3)
          throw std::runtime_error("not yet");
      });
  brook::app app{broker};
  app.observe(metrics.observer());
  app.start({.workers = 1, .log_level = "off"});
  ASSERT_FALSE(broker.publish("jobs", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return app.stats().at(0).processed == 1; }));
  auto text = metrics.text();
  std::map<std::string, std::string> h{{"app_name", "retrier"}, {"handler", "jobs"}};
  EXPECT_EQ(value(text, "faststream_received_processed_messages_exceptions_total",
                  {{"handler", "jobs"}, {"exception_type", "std::runtime_error"}}),
            2);
  // Each delivery ends once: redelivered by the broker, the failed ones end as errors; retried
  // in process, the message ends once.
  auto acked = value(text, "faststream_received_processed_messages_total",
                     {{"handler", "jobs"}, {"status", "acked"}});
  auto errors = value(text, "faststream_received_processed_messages_total",
                      {{"handler", "jobs"}, {"status", "error"}});
  EXPECT_EQ(acked, 1);
  EXPECT_EQ(value(text, "faststream_received_messages_total", h), acked + errors);
  EXPECT_EQ(value(text, "faststream_received_messages_in_process", h), 0);
  EXPECT_EQ(value(text, "brook_messages_retried_total", h), 2);
  app.stop();
}

}  // namespace
