// The whole brook pipeline on a real Redis server: declarations on
// brook::redis::broker, app runtime, ack policy, backpressure, bad input, and
// the same declarations under the test broker (in memory and with_real).
#include <algorithm>
#include <atomic>
#include <boost/describe/class.hpp>
#include <brook/app.hpp>
#include <brook/redis/broker.hpp>
#include <brook/task.hpp>
#include <brook/testing/test_broker.hpp>

#include "../../support/eventually.hpp"
#include "test_support.hpp"

namespace rt {
struct order {
  std::string id;
  std::int32_t qty = 0;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, qty))
struct receipt {
  std::string id;
  std::int32_t total = 0;
};
BOOST_DESCRIBE_STRUCT(receipt, (), (id, total))
}  // namespace rt

using namespace std::chrono_literals;
using brook_test::admin;
using brook_test::redis_url;
using brook_test::unique;

namespace {
bool eventually(const std::function<bool()>& p, std::chrono::milliseconds t = 10s) {
  return brook_test_support::eventually(p, t);
}
struct quiet : ::testing::Environment {
  void SetUp() override { brook::set_log_levels("off"); }
};
const auto* quiet_env = ::testing::AddGlobalTestEnvironment(new quiet);
}  // namespace

TEST(RedisBroker, StreamGroupToListAndRequestReply) {
  auto in = unique("orders"), out = unique("receipts"), rpc = unique("rpc");
  brook::redis::broker broker{redis_url()};
  broker.subscriber(brook::redis::stream{.name = in, .group = "billing", .last_id = "0"})
      .publisher(broker.publisher(brook::redis::list_out{out}))
      .handle([](const rt::order& o) {
        return rt::receipt{o.id, o.qty * 3};
      });
  broker.subscriber(rpc).handle([](const rt::order& o) { return rt::receipt{o.id, 7}; });
  brook::app app{broker};
  app.start({.log_level = "off"});
  for (int i = 0; i < 5; ++i)
    ASSERT_FALSE(broker.publish(in, rt::order{"o" + std::to_string(i), i},
                                {.driver = brook::redis::stream_out{}}));
  admin a;
  ASSERT_TRUE(eventually([&] { return a.integer({"LLEN", out}) == 5; }));
  EXPECT_TRUE(eventually([&] { return a.pending(in, "billing") == 0; }));  // all XACKed
  auto r = broker.request<rt::receipt>(rpc, rt::order{"q", 1});
  EXPECT_EQ(r.id, "q");
  EXPECT_EQ(r.total, 7);
  app.stop();
}

TEST(RedisBroker, BadInputIsRejectedAndTheNextMessageProcessed) {
  auto in = unique("bad");
  brook::redis::broker broker{redis_url()};
  std::vector<std::string> ok;
  std::mutex mtx;
  broker.subscriber(brook::redis::list{in}).handle([&](const rt::order& o) {
    std::lock_guard lock{mtx};
    ok.push_back(o.id);
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  admin a;
  a.run({"RPUSH", in, "{not json", R"({"id": 5, "qty": 1})"});
  ASSERT_FALSE(broker.publish(in, rt::order{"good", 1}, {.driver = brook::redis::list_out{}}));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return ok.size() == 1;
  }));
  EXPECT_EQ(ok.front(), "good");
  ASSERT_TRUE(eventually([&] { return app.runtime()->stats()[0].decode_errors == 2; }));
  EXPECT_EQ(app.runtime()->stats()[0].rejected, 2u);
  app.stop();
}

TEST(RedisBroker, SlowHandlerKeepsTheBacklogInRedis) {
  auto in = unique("slow");
  brook::redis::broker broker{redis_url()};
  std::atomic<int> done{0};
  broker.subscriber(brook::redis::stream{.name = in, .group = "g", .last_id = "0"})
      .max_in_flight(4)
      .handle([&](const boost::json::value&) {  // foreign entries arrive as JSON objects of strings
        std::this_thread::sleep_for(5ms);
        ++done;
      });
  admin a;
  for (int i = 0; i < 200; ++i)
    a.run(
        {"XADD", in, "*", "id", std::to_string(i), "qty", "1"});  // foreign entries: fields as JSON
  brook::app app{broker};
  app.start({.log_level = "off"});
  // Reads follow credit: the backlog stays in Redis, not in brook's memory.
  long long max_pending = 0;
  auto end = std::chrono::steady_clock::now() + 20s;
  while (done < 200 && std::chrono::steady_clock::now() < end) {
    max_pending = std::max(max_pending, a.pending(in, "g"));
    std::this_thread::sleep_for(2ms);
  }
  EXPECT_TRUE(eventually([&] { return done == 200; }, 20s));
  // In process: never more than the window. In Redis, an entry stays pending
  // until its (batched) XACK lands, which can trail the next read by a little.
  EXPECT_LE(max_pending, 8);
  EXPECT_GE(max_pending, 1);
  EXPECT_LE(app.runtime()->stats()[0].max_in_flight_seen, 4u);
  app.stop();
}

void declare(brook::redis::broker& b) {
  b.subscriber("greet").handle([](const rt::order& o) { return rt::receipt{o.id, o.qty + 1}; });
}

TEST(RedisBroker, TestBrokerRunsTheSameDeclarationsWithoutAndWithTheServer) {
  for (bool real : {false, true}) {
    // A URL nobody listens on for the in-memory run: the transport is swapped out.
    brook::redis::broker broker{real ? redis_url() : "redis://127.0.0.1:1"};
    declare(broker);
    brook::testing::test_broker tb{broker, {.with_real = real}};
    auto r = tb.request<rt::receipt>("greet", rt::order{"t", 41});
    EXPECT_EQ(r.total, 42) << (real ? "real" : "memory");
    EXPECT_EQ(tb.handler("greet").calls().size(), 1u);
  }
}

TEST(RedisBroker, TestBrokerEmulatesRedisRouting) {
  brook::redis::broker broker{"redis://127.0.0.1:1"};  // never contacted
  std::atomic<int> fan_a{0}, fan_b{0}, list_a{0}, list_b{0}, pattern{0};
  broker.subscriber("news").handle([&](const std::string&) { ++fan_a; });
  broker.subscriber("news").handle([&](const std::string&) { ++fan_b; });
  broker.subscriber(brook::redis::list{.name = "news"}).handle([&](const std::string&) {
    ++list_a;
  });
  broker.subscriber(brook::redis::list{.name = "news"}).handle([&](const std::string&) {
    ++list_b;
  });
  broker.subscriber(brook::redis::channel{.name = "ne*", .pattern = true})
      .handle([&](const std::string&) { ++pattern; });
  brook::testing::test_broker tb{broker};
  EXPECT_FALSE(tb.publish("news", std::string{"pubsub"}));
  EXPECT_FALSE(tb.publish("news", std::string{"list"}, {.driver = brook::redis::list_out{}}));
  EXPECT_FALSE(tb.publish("news.eu.today", std::string{"deep"}));  // a Redis glob's * spans dots
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(fan_a, 1);  // every channel subscriber gets each channel message
  EXPECT_EQ(fan_b, 1);
  EXPECT_EQ(list_a + list_b, 1);  // list consumers compete; channel messages never reach them
  EXPECT_EQ(pattern, 2);
}

// The test broker stands in for Redis with Redis's semantics: pub/sub and lists
// have no acks (a nack is a counted loss, not a redelivery), a stream group does.
TEST(RedisBroker, TestBrokerEmulatesRedisAcks) {
  brook::redis::broker broker{"redis://127.0.0.1:1"};  // never contacted
  std::atomic<int> channel_calls{0}, stream_calls{0};
  std::atomic<bool> saw_redelivered{false};
  broker.subscriber("ps").ack(brook::ack_policy::nack_on_error).handle([&](const std::string&) {
    ++channel_calls;
    throw std::runtime_error("boom");
  });
  broker.subscriber(brook::redis::stream{.name = "st", .group = "g"})
      .ack(brook::ack_policy::nack_on_error)
      .handle([&](const std::string&, brook::message& m) {
        if (++stream_calls == 1)
          throw std::runtime_error("boom");
        saw_redelivered = m.delivery().redelivered && m.metadata("redelivered") == "true";
      });
  brook::testing::test_broker tb{broker};
  EXPECT_FALSE(tb.publish("ps", std::string{"x"}));
  EXPECT_FALSE(tb.publish("st", std::string{"y"}, {.driver = brook::redis::stream_out{}}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(channel_calls, 1) << "pub/sub cannot redeliver";
  EXPECT_EQ(tb.stats("ps").dropped_for("not_redeliverable"), 1u);
  EXPECT_EQ(stream_calls, 2) << "a stream group redelivers a nack";
  EXPECT_TRUE(saw_redelivered) << "redelivered is written as Redis does: \"true\"";
  EXPECT_EQ(tb.stats("st").dropped_total(), 0u);
}

// Declarations the real driver rejects fail under the test broker too.
TEST(RedisBroker, TestBrokerRejectsWhatRedisRejects) {
  brook::redis::broker broker{"redis://127.0.0.1:1"};  // never contacted
  broker.subscriber(brook::redis::stream{.name = "s", .no_ack = true, .min_idle = 5s})
      .handle([](const std::string&) {});
  EXPECT_THROW(brook::testing::test_broker{broker}, std::invalid_argument);
}

// A declaration of another driver on a Redis broker fails at start, naming both.
struct nats_subject {
  static constexpr std::string_view protocol = "nats";
  static constexpr std::string_view kind = "subject";
  std::string name;
};

TEST(RedisBroker, AnotherDriversDeclarationFailsNamingIt) {
  brook::redis::broker broker{"redis://127.0.0.1:1"};  // never contacted
  broker.subscriber(nats_subject{.name = "orders.*"}).handle([](const std::string&) {});
  try {
    brook::testing::test_broker tb{broker};
    FAIL() << "a nats declaration was accepted by redis";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(
        std::string{e.what()}.find("a nats subject declaration is not one Redis subscribes with"),
        std::string::npos)
        << e.what();
  }
}

// The declarations as the broker's docs write them; a result goes to the typed target.
TEST(RedisBroker, TypedDeclarationsReadAsInTheDocs) {
  brook::redis::broker broker{"redis://127.0.0.1:1"};  // never contacted
  broker.subscriber(brook::redis::stream{.name = "orders", .group = "billing"})
      .publisher(brook::redis::stream_out{.name = "receipts", .maxlen = 10000})
      .handle([](const std::string& s) { return s + "!"; });
  brook::testing::test_broker tb{broker};
  ASSERT_FALSE(tb.publish("orders", std::string{"x"}, {.driver = brook::redis::stream_out{}}));
  ASSERT_TRUE(tb.wait_idle());
  auto sent = tb.published_raw("receipts");
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_NE(sent.front().driver.get<brook::redis::stream_out>(), nullptr);
  EXPECT_EQ(sent.front().driver.get<brook::redis::stream_out>()->maxlen, 10000u);
  EXPECT_EQ(tb.stats("orders").acked, 1u)
      << "a stream with a group has acks, in the test broker too";
}

// 1,000 requests issued from inside handlers at once, at workers = 1, over real Redis:
// the responder answers none until all have arrived, so all are in flight together.
TEST(RedisBroker, AThousandConcurrentRequestsFromHandlersAtOneWorkerAllComplete) {
  constexpr int n = 1000;
  auto in = unique("fanin"), out = unique("quotes"), rpc = unique("price");
  brook::redis::broker broker{redis_url()};
  std::atomic<int> arrived{0};
  broker.subscriber(rpc).max_in_flight(n).handle([&](std::string sku) -> brook::task<std::string> {
    ++arrived;
    while (arrived.load() < n)
      co_await brook::sleep_for(2ms);
    co_return sku + ":42";
  });
  broker.subscriber(brook::redis::list{.name = in, .batch = 100})
      .max_in_flight(n)
      .publisher(broker.publisher(brook::redis::list_out{out}))
      .handle([&](std::string s) -> brook::task<std::string> {
        co_return co_await broker.request_async<std::string>(rpc, s, {.timeout = 30s});
      });
  brook::app app{broker};
  app.start({.workers = 1, .log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  for (int i = 0; i < n; ++i)
    ASSERT_FALSE(broker.publish(brook::redis::list_out{in}, "sku" + std::to_string(i)));
  admin a;
  ASSERT_TRUE(eventually([&] { return a.integer({"LLEN", out}) == n; }, 40s));
  EXPECT_EQ(arrived.load(), n);
  app.stop();
  auto s = app.stats();
  auto it = std::find_if(s.begin(), s.end(), [&](auto& x) { return x.address == in; });
  ASSERT_NE(it, s.end());
  EXPECT_EQ(it->acked, static_cast<std::size_t>(n));
  EXPECT_EQ(it->failed, 0u);
}
