// The app's HTTP endpoint during a run: liveness, readiness, metrics and the AsyncAPI page on
// one port, off unless asked for.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <brook/app.hpp>
#include <brook/memory/broker.hpp>
#include <brook/telemetry/metrics.hpp>
#include <string>
#include <thread>

#include "../support/eventually.hpp"
#include "../support/http_get.hpp"

using brook_test_support::eventually;
using brook_test_support::http_get;
using brook_test_support::sample;

namespace {

brook::run_options with_http() {
  brook::run_options o{.workers = 1, .log_level = "off"};
  o.http_port = 0;
  o.http_host = "127.0.0.1";
  return o;
}

TEST(HttpEndpoint, ServesHealthReadinessMetricsAndDocs) {
  brook::memory::broker broker;
  std::atomic<int> handled{0};
  broker.subscriber("pings").handle([&](std::string) { ++handled; });
  brook::telemetry::metrics metrics;
  brook::app app{broker, {.title = "pinger"}};
  app.observe(metrics.observer());
  app.start(with_http());
  auto port = app.http_port();
  ASSERT_NE(port, 0);
  ASSERT_FALSE(broker.publish("pings", std::string{"hi"}));
  ASSERT_TRUE(eventually([&] { return handled.load() == 1; }));

  auto health = http_get(port, "/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(boost::json::parse(health.body).at("status"), "ok");

  auto ready = http_get(port, "/ready");
  EXPECT_EQ(ready.status, 200u);
  auto r = boost::json::parse(ready.body);
  EXPECT_EQ(r.at("status"), "ready");
  EXPECT_EQ(r.at("subscribers").at(0).at("address"), "pings");
  EXPECT_EQ(r.at("subscribers").at(0).at("subscribed"), true);
  EXPECT_EQ(r.at("brokers").at(0).at("up"), true);

  auto m = http_get(port, "/metrics");
  EXPECT_EQ(m.status, 200u);
  EXPECT_NE(m.content_type.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_EQ(sample(m.body, "faststream_received_messages_total",
                   {{"app_name", "pinger"}, {"handler", "pings"}}),
            1);

  auto page = http_get(port, "/docs/");
  EXPECT_EQ(page.status, 200u);
  EXPECT_NE(page.body.find("<html"), std::string::npos);
  auto doc = http_get(port, "/docs/asyncapi.json");
  EXPECT_EQ(doc.status, 200u);
  EXPECT_EQ(boost::json::parse(doc.body).at("info").at("title"), "pinger");
  EXPECT_EQ(http_get(port, "/asyncapi.yaml").status, 200u);
  EXPECT_EQ(http_get(port, "/nothing-here").status, 404u);
  app.stop();
  EXPECT_EQ(http_get(port, "/health").status, 0u) << "the endpoint stops with the app";
}

TEST(HttpEndpoint, IsOffUnlessAskedForAndMetricsNeedAnObserver) {
  brook::memory::broker broker;
  broker.subscriber("a").handle([](std::string) {});
  brook::app plain{broker};
  plain.start({.workers = 1, .log_level = "off"});
  EXPECT_EQ(plain.http_port(), 0);
  plain.stop();

  brook::memory::broker other;
  other.subscriber("b").handle([](std::string) {});
  brook::app app{other};
  app.start(with_http());
  auto m = http_get(app.http_port(), "/metrics");
  EXPECT_EQ(m.status, 404u);
  EXPECT_NE(m.body.find("app.observe"), std::string::npos) << "says how to turn metrics on";
  EXPECT_EQ(http_get(app.http_port(), "/ready").status, 200u);
  app.stop();
}

TEST(HttpEndpoint, HealthFailsWhenAHandlerIsStuck) {
  brook::memory::broker broker;
  std::atomic<bool> release{false};
  broker.subscriber("slow").blocking().handle([&](std::string) {
    while (!release)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
  });
  brook::app app{broker};
  auto o = with_http();
  o.stall_after = std::chrono::seconds{1};
  app.start(o);
  ASSERT_FALSE(broker.publish("slow", std::string{"x"}));
  EXPECT_EQ(http_get(app.http_port(), "/health").status, 200u);  // the first look marks it
  ASSERT_TRUE(eventually([&] { return http_get(app.http_port(), "/health").status == 503; },
                         std::chrono::seconds{5}));
  auto h = boost::json::parse(http_get(app.http_port(), "/health").body);
  EXPECT_NE(std::string{h.at("reason").as_string()}.find("'slow'"), std::string::npos);
  EXPECT_EQ(http_get(app.http_port(), "/ready").status, 200u) << "stuck is not unready";
  release = true;
  EXPECT_TRUE(eventually([&] { return http_get(app.http_port(), "/health").status == 200; }));
  app.stop();
}

TEST(HttpEndpoint, APortInUseFailsTheStartWithTheFix) {
  brook::memory::broker a, b;
  a.subscriber("x").handle([](std::string) {});
  b.subscriber("y").handle([](std::string) {});
  brook::app first{a};
  first.start(with_http());
  brook::app second{b};
  auto o = with_http();
  o.http_port = first.http_port();
  try {
    second.start(o);
    FAIL() << "a second app on the same port must not start";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string{e.what()}.find("--http-port"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(second.running());
  first.stop();
}

}  // namespace
