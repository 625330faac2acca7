// Shared middlewares (brook::middleware::shared): state across messages and
// subscribers on an actor of its own; admit before each run, settled exactly once
// after each admitted one; the ready-made rate limit, circuit breaker and dedup.
#include <gtest/gtest.h>

#include <atomic>
#include <brook/app.hpp>
#include <brook/deferred.hpp>
#include <brook/memory/broker.hpp>
#include <brook/middleware/circuit_breaker.hpp>
#include <brook/middleware/dead_letter.hpp>
#include <brook/middleware/dedup.hpp>
#include <brook/middleware/rate_limit.hpp>
#include <brook/testing/test_broker.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "../support/eventually.hpp"
#include "../support/quiet_logs.hpp"
#include "../unit/test_types.hpp"

using namespace std::chrono_literals;
using brook::middleware::admission;
using brook::middleware::admission_query;
using brook::middleware::run_outcome;
using brook::testing::test_broker;
using brook_test_support::eventually;

namespace {

/// Records every admit and settled, and answers from the body: "wait" waits once,
/// "skip" skips, "refuse" refuses, anything else proceeds.
struct recorder final : brook::middleware::shared {
  std::mutex mtx;  // only for the test thread's reads; the gate actor is the only writer
  std::map<std::uint64_t, int> admitted;  // run -> times settled
  std::map<run_outcome, int> outcomes;
  std::map<std::string, int> waited;
  std::thread::id thread{};
  bool one_thread = true;

  admission admit(const admission_query& q) override {
    std::lock_guard lock{mtx};
    if (thread == std::thread::id{})
      thread = std::this_thread::get_id();
    auto body = std::string{*q.header("x-test")};
    if (body == "skip")
      return admission::skip("a test said so");
    if (body == "refuse")
      return admission::refuse("not today");
    if (body == "wait" && waited[std::string{q.message_id()}]++ == 0)
      return admission::ask_again(5ms);
    admitted[q.run()] = 0;
    return admission::go();
  }
  void settled(const admission_query& q, run_outcome how) override {
    std::lock_guard lock{mtx};
    ++admitted[q.run()];
    ++outcomes[how];
  }
  int outcome(run_outcome how) {
    std::lock_guard lock{mtx};
    return outcomes[how];
  }
};

/// Refuses everything (to show the ones before it hear `abandoned`).
struct wall final : brook::middleware::shared {
  admission admit(const admission_query&) override { return admission::refuse("a wall"); }
};

brook::publish_options tagged(std::string tag, std::string id = {}) {
  brook::publish_options o;
  o.headers.set("x-test", std::move(tag));
  o.message_id = std::move(id);
  return o;
}

TEST(SharedMiddleware, AdmitsEachRunAndHearsExactlyOneSettledPerAdmittedRun) {
  brook::memory::broker broker;
  auto rec = std::make_shared<recorder>();
  auto parked = broker.publisher("parked");
  broker.subscriber("in")
      .middleware(rec)
      .middleware(std::make_shared<brook::middleware::dead_letter>(parked))
      .handle([](const tt::order& o) {
        if (o.qty < 0)
          throw std::runtime_error("negative");
      });
  test_broker tb{broker};
  ASSERT_FALSE(tb.publish("in", tt::order{"ok", 1}, tagged("go")));
  ASSERT_FALSE(tb.publish("in", tt::order{"bad", -1}, tagged("go")));
  ASSERT_FALSE(tb.publish("in", std::string{R"({"id": 5})"}, tagged("go")));
  ASSERT_FALSE(tb.publish("in", tt::order{"late", 2}, tagged("wait", "w1")));
  ASSERT_FALSE(tb.publish("in", tt::order{"dup", 3}, tagged("skip")));
  ASSERT_FALSE(tb.publish("in", tt::order{"no", 4}, tagged("refuse")));
  ASSERT_TRUE(eventually([&] {
    auto s = tb.stats("in");
    return s.acked + s.dead_lettered == 6;
  }));
  auto s = tb.stats("in");
  EXPECT_EQ(s.received, 6u);
  EXPECT_EQ(s.processed, 2u) << "ok, and late after it waited once";
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_EQ(s.acked, 3u) << "ok, late, and the skipped one";
  EXPECT_EQ(s.dead_lettered, 3u) << "bad, the undecodable one, the refused one";
  // The middleware hears outcomes on its own actor, a moment after the counters.
  EXPECT_TRUE(eventually([&] {
    return rec->outcome(run_outcome::processed) == 2 && rec->outcome(run_outcome::failed) == 1 &&
           rec->outcome(run_outcome::invalid) == 1;
  }));
  std::lock_guard lock{rec->mtx};
  EXPECT_EQ(rec->admitted.size(), 4u);
  for (auto& [run, n] : rec->admitted)
    EXPECT_EQ(n, 1) << "run " << run << " settled once";
  auto dead = tb.published_raw("parked");
  ASSERT_EQ(dead.size(), 3u);
  bool refused = false;
  for (auto& m : dead)
    if (auto* r = m.headers.find("x-brook-dead-letter-reason"))
      refused |= r->find("refused by a middleware: not today") != std::string::npos;
  EXPECT_TRUE(refused) << "the refusal's reason reaches the dead letter";
}

TEST(SharedMiddleware, ALaterRefusalTellsTheEarlierOnesTheRunWasAbandoned) {
  brook::memory::broker broker;
  auto rec = std::make_shared<recorder>();
  std::atomic<int> ran{0};
  broker.subscriber("in")
      .middleware(rec)
      .middleware(std::make_shared<wall>())
      .handle([&](const std::string&) { ++ran; });
  test_broker tb{broker};
  ASSERT_FALSE(tb.publish("in", std::string{"x"}, tagged("go")));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 1; }));
  EXPECT_TRUE(eventually([&] { return rec->outcome(run_outcome::abandoned) == 1; }));
  EXPECT_EQ(ran.load(), 0);
}

TEST(SharedMiddleware, ARunWhoseHandlerActorDiesIsSettledAsAbandoned) {
  brook::memory::broker broker;
  auto rec = std::make_shared<recorder>();
  std::atomic<int> started{0};
  std::vector<brook::promise<std::string>> never;  // results that never come
  std::mutex mtx;
  broker.subscriber("in").middleware(rec).handle([&](const std::string&) {
    std::lock_guard lock{mtx};
    if (++started > 1)
      return brook::make_ready(std::string{"redelivered"});  // after the restart
    return never.emplace_back().get_deferred();
  });
  test_broker tb{broker};
  ASSERT_FALSE(tb.publish("in", std::string{"x"}, tagged("go")));
  ASSERT_TRUE(eventually([&] { return started == 1; }));
  auto hs = tb.runtime().handler_actors("in");
  ASSERT_EQ(hs.size(), 1u);
  caf::anon_send_exit(hs[0], caf::exit_reason::unhandled_exception);  // a crash mid-run
  EXPECT_TRUE(eventually([&] { return rec->outcome(run_outcome::abandoned) == 1; }));
  EXPECT_TRUE(eventually([&] { return rec->outcome(run_outcome::processed) == 1; }))
      << "the memory broker redelivers it to the restarted handler";
  std::lock_guard lock{rec->mtx};
  for (auto& [run, n] : rec->admitted)
    EXPECT_EQ(n, 1) << "run " << run << " settled once";
}

TEST(RateLimit, SpacesMessagesOutAcrossEverySubscriberItWraps) {
  brook::memory::broker broker;
  auto limit = std::make_shared<brook::middleware::rate_limit>(100.0, 1);
  std::mutex mtx;
  std::vector<std::chrono::steady_clock::time_point> starts;
  auto note = [&](const std::string&) {
    std::lock_guard lock{mtx};
    starts.push_back(std::chrono::steady_clock::now());
  };
  broker.subscriber("a").middleware(limit).handle(note);
  broker.subscriber("b").middleware(limit).handle(note);
  test_broker tb{broker};
  for (int i = 0; i < 10; ++i) {
    ASSERT_FALSE(tb.publish("a", std::string{"x"}));
    ASSERT_FALSE(tb.publish("b", std::string{"y"}));
  }
  ASSERT_TRUE(eventually([&] { return tb.stats("a").acked + tb.stats("b").acked == 20; }, 10s));
  std::lock_guard lock{mtx};
  ASSERT_EQ(starts.size(), 20u);
  std::sort(starts.begin(), starts.end());
  // 100/s, no burst: 20 starts span at least 19 intervals of 10 ms (a lower bound:
  // a slow machine only makes it longer).
  EXPECT_GE(starts.back() - starts.front(), 185ms);
  EXPECT_EQ(tb.stats("a").dropped_total() + tb.stats("b").dropped_total(), 0u);
}

TEST(RateLimit, RejectsANonsenseRate) {
  EXPECT_THROW(brook::middleware::rate_limit(0.0), std::invalid_argument);
  EXPECT_THROW(brook::middleware::rate_limit(10.0, 0), std::invalid_argument);
}

TEST(CircuitBreaker, OpensAfterFailuresInARowHoldsMessagesThenProbesAndCloses) {
  brook::memory::broker broker;
  auto breaker = std::make_shared<brook::middleware::circuit_breaker>(3, 300ms);
  std::atomic<bool> broken{true};
  std::atomic<int> calls{0};
  broker.subscriber("in").middleware(breaker).handle([&](const std::string&) {
    ++calls;
    if (broken)
      throw std::runtime_error("database down");
  });
  test_broker tb{broker};
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(tb.publish("in", std::string{"fails"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 3; }));
  // The breaker hears each outcome on its own actor, a moment after the count.
  EXPECT_TRUE(eventually(
      [&] { return breaker->state() == brook::middleware::circuit_breaker::status::open; }));
  EXPECT_EQ(breaker->trips(), 1u);
  for (int i = 0; i < 5; ++i)
    ASSERT_FALSE(tb.publish("in", std::string{"held"}));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls.load(), 3) << "held while open, not failed into the policy";
  EXPECT_EQ(tb.stats("in").held, 5u) << "the held ones keep their place";
  broken = false;
  ASSERT_TRUE(eventually([&] { return tb.stats("in").processed == 5; }, 5s));
  EXPECT_EQ(breaker->state(), brook::middleware::circuit_breaker::status::closed);
  auto s = tb.stats("in");
  EXPECT_EQ(s.received, 8u);
  EXPECT_EQ(s.acked + s.rejected, 8u) << "every message settled once";
  EXPECT_EQ(s.dropped_total(), 0u);
}

TEST(CircuitBreaker, AFailedProbeOpensItAgainAndBadInputNeverTripsIt) {
  brook::memory::broker broker;
  auto breaker = std::make_shared<brook::middleware::circuit_breaker>(2, 100ms);
  std::atomic<int> calls{0};
  broker.subscriber("in").middleware(breaker).handle([&](const tt::order&) {
    ++calls;
    throw std::runtime_error("down");
  });
  test_broker tb{broker};
  for (int i = 0; i < 4; ++i)
    ASSERT_FALSE(tb.publish("in", std::string{"not json"}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").decode_errors == 4; }));
  EXPECT_EQ(breaker->state(), brook::middleware::circuit_breaker::status::closed);
  for (int i = 0; i < 2; ++i)
    ASSERT_FALSE(tb.publish("in", tt::order{"o", 1}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 4 + 2; }));
  ASSERT_TRUE(eventually(
      [&] { return breaker->state() == brook::middleware::circuit_breaker::status::open; }));
  ASSERT_FALSE(tb.publish("in", tt::order{"probe", 1}));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 4 + 3; }, 5s));
  EXPECT_TRUE(eventually([&] { return breaker->trips() == 2u; }))
      << "two failures open it; the probe (the third) fails";
  EXPECT_EQ(calls.load(), 3);
}

TEST(Dedup, AcksADuplicateWithoutRunningTheHandlerButRunsAFailedOneAgain) {
  brook::memory::broker broker;
  std::atomic<int> calls{0};
  std::atomic<bool> fail_once{true};
  broker.subscriber("in")
      .middleware(std::make_shared<brook::middleware::dedup>(1min))
      .retry({.max_attempts = 3, .backoff = {.initial = 1ms, .max = 2ms}})
      .handle([&](const std::string& b) {
        ++calls;
        if (b == "flaky" && fail_once.exchange(false))
          throw std::runtime_error("first attempt fails");
      });
  test_broker tb{broker};
  ASSERT_FALSE(tb.publish("in", std::string{"a"}, tagged("", "id-1")));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").acked == 1; }));
  ASSERT_FALSE(tb.publish("in", std::string{"a"}, tagged("", "id-1")));
  ASSERT_FALSE(tb.publish("in", std::string{"a"}, tagged("", "id-1")));
  ASSERT_FALSE(tb.publish("in", std::string{"flaky"}, tagged("", "id-2")));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").acked == 4; }));
  auto s = tb.stats("in");
  EXPECT_EQ(s.skipped, 2u);
  EXPECT_EQ(s.retried, 1u);
  EXPECT_EQ(calls.load(), 3) << "id-1 once, id-2 twice (its retry is not a duplicate)";
  ASSERT_FALSE(tb.publish("in", std::string{"flaky"}, tagged("", "id-2")));
  ASSERT_TRUE(eventually([&] { return tb.stats("in").skipped == 3; }));
  EXPECT_EQ(calls.load(), 3);
}

}  // namespace
