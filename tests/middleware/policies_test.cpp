// Policy middlewares (brook::middleware): declared once at app, broker or router level,
// carried out by the core for every subscriber they wrap; a subscriber's own option wins.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <brook/app.hpp>
#include <brook/deferred.hpp>
#include <brook/memory/broker.hpp>
#include <brook/middleware/dead_letter.hpp>
#include <brook/middleware/exceptions.hpp>
#include <brook/middleware/retry.hpp>
#include <brook/middleware/timeout.hpp>
#include <brook/testing/test_broker.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "../support/eventually.hpp"
#include "../support/quiet_logs.hpp"
#include "../unit/test_types.hpp"

using namespace std::chrono_literals;
using brook::testing::test_broker;

namespace {

using brook_test_support::eventually;

const std::string* header(const brook::outgoing& m, std::string_view k) {
  return m.headers.find(k);
}

TEST(RetryMiddleware, OnABrokerRetriesEverySubscriberAndTheSubscribersOwnPolicyWins) {
  brook::memory::broker broker;
  broker.middleware(std::make_shared<brook::middleware::retry>(
      brook::retry_policy{.max_attempts = 3, .backoff = {.initial = 1ms, .max = 2ms}}));
  std::atomic<int> a{0}, b{0};
  broker.subscriber("a").handle([&](const std::string&) {
    ++a;
    throw std::runtime_error("always");
  });
  broker.subscriber("b")
      .retry({.max_attempts = 5, .backoff = {.initial = 1ms, .max = 2ms}})
      .handle([&](const std::string&) {
        ++b;
        throw std::runtime_error("always");
      });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("a", std::string{"x"}));
  EXPECT_FALSE(tb.publish("b", std::string{"x"}));
  ASSERT_TRUE(
      eventually([&] { return tb.stats("a").rejected == 1 && tb.stats("b").rejected == 1; }));
  EXPECT_EQ(a.load(), 3) << "the broker's policy, under the default reject_on_error";
  EXPECT_EQ(b.load(), 5) << "the subscriber's own policy wins";
  EXPECT_EQ(tb.stats("a").retried, 2u);
}

TEST(DeadLetterMiddleware, KeepsWhatWouldBeRejectedIncludingUndecodableBodies) {
  brook::memory::broker broker;
  auto parked = broker.publisher("parked");
  broker.middleware(std::make_shared<brook::middleware::dead_letter>(parked));
  broker.subscriber("orders").handle([](const tt::order& o) {
    if (o.qty < 0)
      throw std::invalid_argument("negative quantity");
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("orders", tt::order{"o1", -1}));
  EXPECT_FALSE(tb.publish("orders", std::string{R"({"id": 5})"}));  // id has the wrong type
  ASSERT_TRUE(eventually([&] { return tb.published_raw("parked").size() == 2; }));
  ASSERT_TRUE(tb.wait_idle());
  auto dead = tb.published_raw("parked");
  ASSERT_TRUE(header(dead[0], "x-brook-dead-letter-reason"));
  EXPECT_THAT(*header(dead[0], "x-brook-dead-letter-reason"),
              ::testing::HasSubstr("negative quantity"));
  EXPECT_EQ(*header(dead[0], "x-brook-attempts"), "1");
  ASSERT_TRUE(header(dead[1], "x-brook-dead-letter-reason"));
  EXPECT_THAT(*header(dead[1], "x-brook-dead-letter-reason"), ::testing::HasSubstr("id"))
      << "the decode error names the field";
  EXPECT_EQ(dead[1].body, R"({"id": 5})");
  auto s = tb.stats("orders");
  EXPECT_EQ(s.dead_lettered, 2u);
  EXPECT_EQ(s.rejected, 0u);
  EXPECT_EQ(s.dropped_total(), 0u);
}

TEST(TimeoutMiddleware, FailsADeferredResultThatTakesTooLong) {
  brook::memory::broker broker;
  broker.middleware(std::make_shared<brook::middleware::timeout>(50ms));
  std::optional<brook::promise<std::string>> never;
  broker.subscriber("slow").publisher("out").handle([&](const std::string&) {
    brook::promise<std::string> p;
    never = p;
    return p.get_deferred();
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("slow", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("slow").rejected == 1; }));
  EXPECT_TRUE(tb.published_raw("out").empty());
  EXPECT_EQ(tb.stats("slow").failed, 1u);
}

TEST(ExceptionsMiddleware, MapsByTypeAndFallsThroughToThePolicy) {
  brook::memory::broker broker;
  auto errors = std::make_shared<brook::middleware::exceptions>();
  std::atomic<int> observed{0};
  errors->on<std::invalid_argument>(
      [](const std::invalid_argument&, brook::message&) { return brook::ack_action::ack; });
  errors->on<std::exception>([&](const std::exception&, brook::message&) { ++observed; });
  broker.middleware(errors);
  broker.subscriber("in").handle([](const std::string& s) {
    if (s == "bad-arg")
      throw std::invalid_argument("mapped");
    throw std::runtime_error("observed only");
  });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"bad-arg"}));
  EXPECT_FALSE(tb.publish("in", std::string{"other"}));
  ASSERT_TRUE(
      eventually([&] { return tb.stats("in").acked == 1 && tb.stats("in").rejected == 1; }));
  EXPECT_EQ(observed.load(), 1);
}

}  // namespace

namespace {

// Where the broker cannot wait, a retry goes back to it with its attempt and due time;
// the next delivery waits until then and counts on from there.
TEST(RetryThrough, RepublishesWithTheAttemptAndDeadLettersAtTheLast) {
  brook::memory::broker broker;
  auto dead = broker.publisher("in.dead");
  std::mutex mtx;
  std::vector<std::uint32_t> attempts;
  std::vector<std::chrono::steady_clock::time_point> when;
  broker.subscriber("in")
      .retry({.max_attempts = 3, .backoff = {.initial = 40ms, .max = 40ms, .jitter = 0}})
      .retry_through(broker.publisher("in"))
      .dead_letter(dead)
      .handle([&](const std::string&, brook::message& m) {
        std::lock_guard lock{mtx};
        attempts.push_back(m.delivery().attempt);
        when.push_back(std::chrono::steady_clock::now());
        throw std::runtime_error("still broken");
      });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return tb.published_raw("in.dead").size() == 1; }));
  ASSERT_TRUE(tb.wait_idle());
  auto copies = tb.published_raw("in");
  ASSERT_EQ(copies.size(), 3u) << "the original and two republished retries";
  EXPECT_EQ(*header(copies[1], "x-brook-attempt"), "2");
  EXPECT_EQ(*header(copies[2], "x-brook-attempt"), "3");
  EXPECT_TRUE(header(copies[1], "x-brook-retry-at"));
  EXPECT_EQ(*header(tb.published_raw("in.dead").front(), "x-brook-attempts"), "3");
  {
    std::lock_guard lock{mtx};
    EXPECT_EQ(attempts, (std::vector<std::uint32_t>{1, 2, 3}));
    ASSERT_EQ(when.size(), 3u);
    EXPECT_GE(when[1] - when[0], 35ms) << "the republished retry waited until it was due";
  }
  EXPECT_TRUE(eventually([&] { return tb.stats("in").dead_lettered == 1; }));
  auto s = tb.stats("in");
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.acked, 0u) << "republished retries are not counted as handled";
  EXPECT_EQ(s.dropped_total(), 0u);
  EXPECT_EQ(broker.pending(), 0u);
}

}  // namespace

namespace {

struct stamp final : brook::middleware::base {
  void on_publish(brook::outgoing& m) override { m.headers.set("x-stamped", "yes"); }
};

// Publish middlewares see every publish, not only handler results.
TEST(PublishMiddleware, SeesDirectPublishesPublishersAndResults) {
  brook::memory::broker broker;
  broker.middleware(std::make_shared<stamp>());
  auto out = broker.publisher("direct.out");
  broker.subscriber("in").publisher("result").handle([](const std::string& s) { return s; });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"x"}));
  ASSERT_FALSE(out.publish(std::string{"y"}));
  ASSERT_TRUE(eventually([&] { return tb.published_raw("result").size() == 1; }));
  for (auto* ch : {"in", "direct.out", "result"}) {
    auto sent = tb.published_raw(ch);
    ASSERT_EQ(sent.size(), 1u) << ch;
    ASSERT_TRUE(header(sent.front(), "x-stamped")) << ch;
  }
}

}  // namespace

namespace {

struct scope final : brook::middleware::around {
  scope(std::string n, std::vector<std::string>& log, std::mutex& m)
      : name(std::move(n)), trail(log), mtx(m) {}
  void consume_scope(brook::message& msg, const std::function<void()>& next) override {
    {
      std::lock_guard lock{mtx};
      trail.push_back(name + ">");
    }
    if (std::string{msg.body()} == "skip" && name == "inner")
      return;
    if (std::string{msg.body()} == "refuse" && name == "outer")
      throw std::runtime_error("refused by the scope");
    next();
    std::lock_guard lock{mtx};
    trail.push_back("<" + name);
  }
  std::string name;
  std::vector<std::string>& trail;
  std::mutex& mtx;
};

// Consume scopes wrap the handler call, outermost first; one may refuse or skip it.
TEST(AroundMiddleware, WrapsTheHandlerCallOutermostFirst) {
  brook::memory::broker broker;
  std::mutex mtx;
  std::vector<std::string> trail;
  broker.middleware(std::make_shared<scope>("outer", trail, mtx));
  std::atomic<int> handled{0};
  broker.subscriber("in")
      .middleware(std::make_shared<scope>("inner", trail, mtx))
      .handle([&](const std::string&) {
        std::lock_guard lock{mtx};
        trail.push_back("handler");
        ++handled;
      });
  test_broker tb{broker};
  EXPECT_FALSE(tb.publish("in", std::string{"go"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").acked == 1; }));
  {
    std::lock_guard lock{mtx};
    EXPECT_EQ(trail, (std::vector<std::string>{"outer>", "inner>", "handler", "<inner", "<outer"}));
    trail.clear();
  }
  EXPECT_FALSE(tb.publish("in", std::string{"refuse"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 1; }));
  EXPECT_FALSE(tb.publish("in", std::string{"skip"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").acked == 2; }));
  EXPECT_EQ(handled.load(), 1) << "refused and skipped messages never reach the handler";
}

}  // namespace
