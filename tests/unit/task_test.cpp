// Coroutine handlers: brook::task<T> awaits publishes, requests and timers on its
// own handler actor, without holding a scheduler thread.
#include <gtest/gtest.h>

#include <atomic>
#include <brook/app.hpp>
#include <brook/memory/broker.hpp>
#include <brook/task.hpp>
#include <brook/testing/test_broker.hpp>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/eventually.hpp"
#include "../support/quiet_logs.hpp"

using namespace std::chrono_literals;
using brook::testing::test_broker;

namespace {

using brook_test_support::eventually;

TEST(Task, AwaitsAPublishAndItsResultIsPublished) {
  brook::memory::broker broker;
  auto audit = broker.publisher("audit");
  broker.subscriber("in").publisher("out").handle([&](std::string s) -> brook::task<std::string> {
    auto err = co_await audit.publish_async(s);
    if (err)
      throw std::runtime_error(err.to_string());
    co_return s + "!";
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.published<std::string>("out").size() == 1; }));
  EXPECT_EQ(tb.published<std::string>("out").front(), "x!");
  EXPECT_EQ(tb.published<std::string>("audit"), std::vector<std::string>{"x"});
  EXPECT_TRUE(eventually([&] { return tb.stats("in").acked == 1; }));
}

// One scheduler thread: a blocking request from a handler would hold the very thread
// the responder needs; an awaited one lets it run.
TEST(Task, AwaitsARequestOnASingleSchedulerThread) {
  brook::memory::broker broker;
  broker.subscriber("price").handle([](const std::string& sku) { return sku + ":42"; });
  broker.subscriber("in").publisher("out").handle([&](std::string s) -> brook::task<std::string> {
    auto price = co_await broker.request_async<std::string>("price", s, {.timeout = 2s});
    co_return "quoted " + price;
  });
  test_broker tb{broker, {.workers = 1}};
  EXPECT_FALSE(tb.publish("in", std::string{"A1"}));
  ASSERT_TRUE(eventually([&] { return tb.published<std::string>("out").size() == 1; }));
  EXPECT_EQ(tb.published<std::string>("out").front(), "quoted A1:42");
}

// While a task waits, its handler actor serves the next message.
TEST(Task, WaitingFreesTheHandlerActor) {
  brook::memory::broker broker;
  std::mutex mtx;
  std::vector<std::string> finished;
  broker.subscriber("in").max_concurrency(1).handle([&](std::string s) -> brook::task<> {
    if (s == "slow")
      co_await brook::sleep_for(150ms);
    std::lock_guard lock{mtx};
    finished.push_back(s);
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"slow"}));
  EXPECT_FALSE(tb.publish("in", std::string{"fast"}));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return finished.size() == 2;
  }));
  std::lock_guard lock{mtx};
  EXPECT_EQ(finished, (std::vector<std::string>{"fast", "slow"}));
}

// A failure after a suspension fails the message like any handler error.
TEST(Task, ARequestThatTimesOutFailsTheMessage) {
  brook::memory::broker broker;
  std::atomic<bool> caught{false};
  broker.subscriber("in").handle([&](std::string s) -> brook::task<> {
    try {
      co_await broker.request_async<std::string>("nobody.listens", s, {.timeout = 50ms});
    } catch (const brook::request_error& e) {
      caught = e.code() == brook::errc::timeout;
      throw;
    }
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 1; }));
  EXPECT_TRUE(caught.load());
  EXPECT_EQ(tb.stats("in").failed, 1u);
}

// A task awaits another task (and any deferred).
TEST(Task, AwaitsARequestWithDefaultOptions) {
  brook::memory::broker broker;
  broker.subscriber("echo").handle([](const std::string& s) { return s; });
  broker.subscriber("in").publisher("out").handle([&](std::string s) -> brook::task<std::string> {
    co_return co_await broker.request_async<std::string>("echo", s);
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"hi"}));
  ASSERT_TRUE(eventually([&] { return tb.published<std::string>("out").size() == 1; }));
  EXPECT_EQ(tb.published<std::string>("out").front(), "hi");
}

TEST(Task, AwaitsATaskAndADeferred) {
  brook::memory::broker broker;
  auto twice = [](int n) -> brook::task<int> {
    co_await brook::sleep_for(1ms);
    co_return 2 * n;
  };
  broker.subscriber("in").publisher("out").handle([&](std::string s) -> brook::task<std::string> {
    brook::promise<int> p;
    auto later = p.get_deferred();
    std::thread{[p]() mutable { p.set_value(5); }}.detach();
    auto a = co_await twice(static_cast<int>(s.size()));
    auto b = co_await later;
    co_return std::to_string(a + b);
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"abc"}));
  ASSERT_TRUE(eventually([&] { return tb.published<std::string>("out").size() == 1; }));
  EXPECT_EQ(tb.published<std::string>("out").front(), "11");
}

// 1,000 requests in flight at once from inside handlers, on one scheduler thread:
// the responder answers none until it has seen all of them, so every request is
// outstanding together, and each waiting handler holds no thread.
TEST(Task, AThousandConcurrentRequestsFromHandlersOnOneThreadAllComplete) {
  constexpr int n = 1000;
  brook::memory::broker broker;
  std::atomic<int> arrived{0};
  broker.subscriber("price").max_in_flight(n).handle(
      [&](std::string sku) -> brook::task<std::string> {
        ++arrived;
        while (arrived.load() < n)
          co_await brook::sleep_for(2ms);
        co_return sku + ":42";
      });
  broker.subscriber("in").max_in_flight(n).publisher("out").handle(
      [&](std::string s) -> brook::task<std::string> {
        co_return co_await broker.request_async<std::string>("price", s, {.timeout = 20s});
      });
  test_broker tb{broker, {.workers = 1}};
  for (int i = 0; i < n; ++i)
    EXPECT_FALSE(tb.publish("in", "sku" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return tb.published<std::string>("out").size() == n; }, 30s));
  EXPECT_EQ(arrived.load(), n);
  EXPECT_EQ(tb.stats("in").acked, static_cast<std::size_t>(n));
  EXPECT_EQ(tb.stats("in").failed, 0u);
}

}  // namespace
