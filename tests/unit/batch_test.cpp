// Batch subscribers on the in-memory broker: what a call gets, when a partial
// batch runs, a malformed message in a batch, settlement and dead letters per
// message, the start-up check and the drain.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <brook/app.hpp>
#include <brook/memory/broker.hpp>
#include <brook/memory/transport.hpp>
#include <brook/testing/test_broker.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "../support/eventually.hpp"
#include "test_types.hpp"

using namespace std::chrono_literals;
using brook::testing::test_broker;
using brook_test_support::eventually;
using tt::order;

namespace {

struct quiet : ::testing::Environment {
  void SetUp() override { brook::set_log_levels("off"); }
};
const auto* quiet_env = ::testing::AddGlobalTestEnvironment(new quiet);

/// What each call of a batch handler got.
struct calls {
  std::mutex mtx;
  std::vector<std::vector<std::string>> seen;
  void add(const std::vector<order>& xs) {
    std::vector<std::string> ids;
    for (auto& x : xs)
      ids.push_back(x.id);
    std::lock_guard lock{mtx};
    seen.push_back(std::move(ids));
  }
  std::size_t total() {
    std::lock_guard lock{mtx};
    std::size_t n = 0;
    for (auto& c : seen)
      n += c.size();
    return n;
  }
  std::vector<std::vector<std::string>> get() {
    std::lock_guard lock{mtx};
    return seen;
  }
};

void publish_raw(brook::memory::broker& broker, std::string channel, std::string body) {
  brook::outgoing m;
  m.channel = std::move(channel);
  m.body = std::move(body);
  m.content_type = "application/json";
  broker.get_transport()->publish(std::move(m), [](const brook::error_info&) {});
}

}  // namespace

TEST(Batch, FullBatchesRunAtOnceAndEveryMessageIsCounted) {
  brook::memory::broker broker;
  calls c;
  broker.subscriber("in").batch(5, 10s).max_in_flight(20).handle(
      [&](const std::vector<order>& xs) { c.add(xs); });
  test_broker tb{broker};
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(tb.publish("in", order{"o" + std::to_string(i), i, {}}));
  // Two full batches: neither waits for the 10 s.
  ASSERT_TRUE(eventually([&] { return c.total() == 10; }, 5s));
  ASSERT_TRUE(tb.wait_idle());
  auto seen = c.get();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_THAT(seen[0], ::testing::ElementsAre("o0", "o1", "o2", "o3", "o4"));
  EXPECT_THAT(seen[1], ::testing::ElementsAre("o5", "o6", "o7", "o8", "o9"));
  auto s = tb.stats("in");
  EXPECT_EQ(s.received, 10u);
  EXPECT_EQ(s.processed, 10u);
  EXPECT_EQ(s.acked, 10u);
  EXPECT_EQ(s.in_flight, 0u);
}

TEST(Batch, APartialBatchRunsAfterItsWait) {
  brook::memory::broker broker;
  calls c;
  broker.subscriber("in").batch(50, 150ms).handle([&](const std::vector<order>& xs) { c.add(xs); });
  test_broker tb{broker};
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(tb.publish("in", order{"p" + std::to_string(i), i, {}}));
  ASSERT_TRUE(eventually([&] { return c.total() == 3; }, 5s));
  auto seen = c.get();
  ASSERT_EQ(seen.size(), 1u);  // the three waited for each other
  EXPECT_THAT(seen[0], ::testing::ElementsAre("p0", "p1", "p2"));
}

TEST(Batch, WithoutAWaitABatchIsWhatHasArrived) {
  brook::memory::broker broker;
  calls c;
  broker.subscriber("in").batch(4).max_in_flight(64).handle(
      [&](const std::vector<order>& xs) { c.add(xs); });
  test_broker tb{broker};
  for (int i = 0; i < 25; ++i)
    ASSERT_FALSE(tb.publish("in", order{"w" + std::to_string(i), i, {}}));
  ASSERT_TRUE(eventually([&] { return c.total() == 25; }, 5s));
  for (auto& call : c.get()) {
    EXPECT_GE(call.size(), 1u);
    EXPECT_LE(call.size(), 4u);
  }
  EXPECT_EQ(tb.stats("in").processed, 25u);
}

TEST(Batch, AMalformedMessageIsRejectedAloneAndTheOthersAreHandled) {
  brook::memory::broker broker;
  calls c;
  broker.subscriber("in").batch(4, 10s).handle([&](const std::vector<order>& xs) { c.add(xs); });
  test_broker tb{broker};
  publish_raw(broker, "in", R"({"id":"g1","qty":1})");
  publish_raw(broker, "in", R"({"id":"bad","qty":"two"})");
  publish_raw(broker, "in", "{not json");
  publish_raw(broker, "in", R"({"id":"g2","qty":2})");
  ASSERT_TRUE(eventually([&] { return tb.stats("in").rejected == 2; }, 5s));
  ASSERT_TRUE(tb.wait_idle());
  std::set<std::string> handled;
  for (auto& call : c.get())
    handled.insert(call.begin(), call.end());
  EXPECT_THAT(handled, ::testing::UnorderedElementsAre("g1", "g2"));
  auto s = tb.stats("in");
  EXPECT_EQ(s.received, 4u);
  EXPECT_EQ(s.decode_errors, 2u);
  EXPECT_EQ(s.processed, 2u);
  EXPECT_EQ(s.acked + s.rejected, 4u);
}

TEST(Batch, AFailedBatchIsDeadLetteredMessageByMessage) {
  brook::memory::broker broker;
  auto dlq = broker.publisher("in.dlq");
  std::atomic<int> runs{0};
  broker.subscriber("in")
      .batch(3, 10s)
      .retry({.max_attempts = 2, .backoff = {.initial = 1ms, .max = 2ms}})
      .dead_letter(dlq)
      .handle([&](const std::vector<order>&) {
        ++runs;
        throw std::runtime_error("store down");
      });
  test_broker tb{broker};
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(tb.publish("in", order{"d" + std::to_string(i), i, {}}));
  ASSERT_TRUE(eventually([&] { return tb.published_raw("in.dlq").size() == 3; }, 5s));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(runs, 2);  // two attempts of the whole batch
  std::set<std::string> bodies;
  for (auto& m : tb.published_raw("in.dlq")) {
    bodies.insert(m.body);
    ASSERT_TRUE(m.headers.find("x-brook-dead-letter-reason"));
    EXPECT_THAT(*m.headers.find("x-brook-dead-letter-reason"), ::testing::HasSubstr("store down"));
    EXPECT_EQ(*m.headers.find("x-brook-original-channel"), "in");
  }
  EXPECT_EQ(bodies.size(), 3u);  // each message on its own, not the batch's array
  auto s = tb.stats("in");
  EXPECT_EQ(s.dead_lettered, 3u);
  EXPECT_EQ(s.retried, 3u);
  EXPECT_EQ(s.failed, 6u);
}

TEST(Batch, TheMessageShowsEachMembersHeadersAndIds) {
  brook::memory::broker broker;
  std::mutex mtx;
  std::vector<std::string> tags;
  broker.subscriber("in").batch(2, 10s).handle(
      [&](const std::vector<std::string>& xs, const brook::message& m) {
        std::lock_guard lock{mtx};
        for (std::size_t i = 0; i < xs.size(); ++i)
          tags.push_back(xs[i] + "=" + *m.batch()[i]->headers.find("tag"));
      });
  test_broker tb{broker};
  for (std::string t : {"a", "b"}) {
    brook::publish_options po;
    po.headers.set("tag", "tag-" + t);
    ASSERT_FALSE(tb.publish("in", std::string{"text " + t}, po));  // text bodies
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return tags.size() == 2;
  }));
  std::lock_guard lock{mtx};
  EXPECT_THAT(tags, ::testing::ElementsAre("text a=tag-a", "text b=tag-b"));
}

TEST(Batch, AHandlerThatTakesNoListFailsAtStart) {
  brook::memory::broker broker;
  broker.subscriber("in").batch(10).handle([](const order&) {});
  brook::app app{broker};
  try {
    app.start();
    FAIL() << "expected a start-up error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("std::vector<T>"));
  }
}

TEST(Batch, ADrainRunsTheWaitingPartialBatch) {
  brook::memory::broker broker;
  calls c;
  broker.subscriber("in").batch(10, 60s).handle([&](const std::vector<order>& xs) { c.add(xs); });
  brook::app app{broker};
  app.start();
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(broker.publish("in", order{"s" + std::to_string(i), i, {}}));
  std::this_thread::sleep_for(100ms);  // delivered, waiting for more
  EXPECT_EQ(c.total(), 0u);
  app.stop();
  EXPECT_EQ(c.total(), 3u);  // handled, not handed back
  ASSERT_EQ(c.get().size(), 1u);
}

// publish_batch: every body is a message of its own, in order, under one correlation id;
// the first failure is the result and the others are still sent.
TEST(Batch, PublishBatchSendsEachUnderOneCorrelationIdAndReportsTheFirstFailure) {
  brook::memory::broker broker;
  broker.max_publish_bytes(64);
  std::mutex mtx;
  std::vector<std::string> ids, correlations;
  broker.subscriber("in").handle([&](const order& o, brook::message& m) {
    std::lock_guard lock{mtx};
    ids.push_back(o.id);
    correlations.push_back(std::string{m.correlation_id()});
  });
  test_broker tb{broker};
  auto out = broker.publisher("in");
  std::vector<order> orders{{"a", 1, {}}, {"b", 2, {}}, {"c", 3, {}}};
  ASSERT_FALSE(out.publish_batch(orders));
  ASSERT_TRUE(tb.wait_idle());
  {
    std::lock_guard lock{mtx};
    EXPECT_THAT(ids, ::testing::ElementsAre("a", "b", "c"));
    ASSERT_EQ(correlations.size(), 3u);
    EXPECT_EQ(correlations[0].size(), 36u);  // a new uuid, shared
    EXPECT_EQ(correlations[1], correlations[0]);
    EXPECT_EQ(correlations[2], correlations[0]);
  }
  std::vector<order> mixed{{"d", 4, {}}, {std::string(100, 'x'), 5, {}}, {"e", 6, {}}};
  auto err = out.publish_batch(mixed, {.correlation_id = "mine"});
  EXPECT_EQ(err.code, brook::errc::invalid_argument);
  EXPECT_NE(err.message.find("exceeds the limit"), std::string::npos) << err.message;
  ASSERT_TRUE(tb.wait_idle());
  std::lock_guard lock{mtx};
  EXPECT_THAT(ids, ::testing::ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_EQ(correlations.back(), "mine");
  EXPECT_FALSE(out.publish_batch(std::vector<order>{}));  // nothing to send: ok
}
