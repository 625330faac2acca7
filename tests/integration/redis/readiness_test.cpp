// Readiness and liveness on the app's HTTP endpoint while its Redis server goes away and comes
// back: /ready turns 503 within a bounded time and 200 again after the restart, /health stays
// 200 throughout, and the metrics show the connection's state.
// The test runs its own redis-server on BROOK_REDIS_RECONNECT_PORT + 8 (default 6399).
#include <boost/json/parse.hpp>
#include <brook/app.hpp>
#include <brook/redis/broker.hpp>
#include <brook/telemetry/metrics.hpp>
#include <iostream>

#include "../../support/http_get.hpp"
#include "test_support.hpp"

namespace {

using namespace brook_test;
using brook_test_support::http_get;
using brook_test_support::sample;

std::string port() {
  const char* p = std::getenv("BROOK_REDIS_RECONNECT_PORT");
  return std::to_string((p && *p ? std::atoi(p) : 6391) + 8);
}

/// Polls `target` until it answers `status`; returns how long that took (or -1 ms).
std::chrono::milliseconds until_status(unsigned short http, const std::string& target,
                                       unsigned status, std::chrono::seconds limit,
                                       std::vector<unsigned>* health = nullptr) {
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    if (health)
      health->push_back(http_get(http, "/health").status);
    if (http_get(http, target).status == status)
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    std::this_thread::sleep_for(20ms);
  }
  return std::chrono::milliseconds{-1};
}

TEST(RedisReadiness, ReadyFollowsTheServerAndHealthStaysUp) {
  auto env = "BROOK_REDIS_PORT=" + port();
  ASSERT_EQ(services("start redis", env), 0);
  struct stop_server {
    std::string env;
    ~stop_server() { services("stop redis", env); }
  } guard{env};
  auto s = quick_reconnect_settings();
  brook::redis::broker broker{"redis://127.0.0.1:" + port(), s};
  std::atomic<int> handled{0};
  auto stream = unique("ready-stream");
  broker.subscriber(brook::redis::stream{.name = stream, .group = "g"}).handle([&](std::string) {
    ++handled;
  });
  broker.subscriber(unique("ready-channel")).handle([](std::string) {});
  brook::telemetry::metrics metrics;
  brook::app app{broker, {.title = "ready-test"}};
  app.observe(metrics.observer());
  brook::run_options o{.workers = 2, .log_level = "off"};
  o.http_port = 0;
  o.http_host = "127.0.0.1";
  app.start(o);
  auto http = app.http_port();
  ASSERT_EQ(http_get(http, "/ready").status, 200u);
  ASSERT_EQ(http_get(http, "/health").status, 200u);
  ASSERT_FALSE(broker.publish(brook::redis::stream_out{.name = stream}, std::string{"before"}));
  ASSERT_TRUE(eventually([&] { return handled.load() == 1; }));

  ASSERT_EQ(services("stop redis", env), 0);
  std::vector<unsigned> health;
  auto down_after = until_status(http, "/ready", 503, 10s, &health);
  ASSERT_GE(down_after.count(), 0) << "/ready never turned 503 with the server gone";
  EXPECT_LT(down_after, 5s);
  auto body = boost::json::parse(http_get(http, "/ready").body);
  EXPECT_EQ(body.at("status"), "not ready");
  EXPECT_EQ(body.at("brokers").at(0).at("up"), false);
  auto text = metrics.text();
  EXPECT_EQ(sample(text, "brook_connection_up", {{"broker", "redis"}}), 0);
  // Down for a while: liveness is not readiness.
  auto until = std::chrono::steady_clock::now() + 1s;
  while (std::chrono::steady_clock::now() < until) {
    health.push_back(http_get(http, "/health").status);
    std::this_thread::sleep_for(50ms);
  }

  ASSERT_EQ(services("start redis", env), 0);
  auto up_after = until_status(http, "/ready", 200, 15s, &health);
  ASSERT_GE(up_after.count(), 0) << "/ready never came back after the restart";
  std::cout << "/ready: 503 after " << down_after.count() << " ms down, 200 again "
            << up_after.count() << " ms after the restart; /health polled " << health.size()
            << " times, always 200\n";
  for (auto h : health)
    ASSERT_EQ(h, 200u) << "/health must stay 200 while the broker is down";
  EXPECT_GE(health.size(), 10u);
  EXPECT_EQ(sample(metrics.text(), "brook_connection_up", {{"broker", "redis"}}), 1);
  EXPECT_GE(sample(metrics.text(), "brook_connection_events_total",
                   {{"broker", "redis"}, {"event", "loss"}})
                .value_or(0),
            1);
  // And the service works again.
  ASSERT_FALSE(broker.publish(brook::redis::stream_out{.name = stream}, std::string{"after"}));
  EXPECT_TRUE(eventually([&] { return handled.load() == 2; }, 10s));
  app.stop();
}

}  // namespace
