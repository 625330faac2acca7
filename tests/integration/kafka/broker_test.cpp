// The Kafka broker end to end against a real broker in KRaft mode: typed handlers,
// request/reply over a reply topic, keys and headers, bad input, safe commits after a
// nack, a member leaving its group mid-stream and a flood of 100,000, each checked by
// its ledger (handled + the group's lag + counted drops = published).
#include <atomic>
#include <brook/app.hpp>
#include <brook/kafka/broker.hpp>
#include <brook/testing/test_broker.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "../../support/eventually.hpp"
#include "../../support/ledger.hpp"
#include "../../unit/test_types.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using brook_test::bootstrap;
using brook_test::stats_of;
using brook_test::unique;
using brook_test_support::eventually;
using brook_test_support::kafka_lag;
using seen_set = brook_test_support::handled_set;
namespace kafka = brook::kafka;

namespace {

kafka::settings quick() {
  kafka::settings s;
  s.poll_wait = 50ms;
  s.consumer_config["session.timeout.ms"] = "6000";
  s.consumer_config["heartbeat.interval.ms"] = "500";
  return s;
}

kafka::topic group_topic(std::string name, std::string group) {
  return {
      .name = std::move(name), .group = std::move(group), .reset = kafka::offset_reset::earliest};
}

/// Whether the group's lag on `topic` settles at `expected` (commits are asynchronous).
::testing::AssertionResult lag_is(const std::string& group, const std::string& topic,
                                  long long expected) {
  long long lag = -2;
  if (eventually([&] { return (lag = kafka_lag(bootstrap(), group, topic)) == expected; }))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << group << " on " << topic << ": lag " << lag;
}

}  // namespace

TEST(KafkaBroker, ATypedHandlerRepliesToARequestAndPublishesItsResult) {
  kafka::broker broker{bootstrap(), quick()};
  auto in = unique("orders"), out = unique("receipts");
  broker.subscriber(group_topic(in, "billing"))
      .publisher(broker.publisher(kafka::topic_out{.name = out}))
      .handle([](const tt::order& o) -> tt::receipt {
        return {o.id, o.qty * 10};
      });
  seen_set published;
  broker.subscriber(group_topic(out, "audit")).handle([&](const tt::receipt& r) {
    published.add(r.id);
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  auto r = broker.request<tt::receipt>(in, tt::order{"o1", 4}, {.timeout = 10s});
  EXPECT_EQ(r.id, "o1");
  EXPECT_EQ(r.total, 40);
  ASSERT_TRUE(eventually([&] { return published.size() == 1; })) << "the result also goes out";
  app.stop();
  EXPECT_TRUE(lag_is("billing", in, 0));
}

TEST(KafkaBroker, ManyRequestsInFlightAllComplete) {
  kafka::broker broker{bootstrap(), quick()};
  auto rpc = unique("price");
  broker.subscriber(group_topic(rpc, "pricing")).max_concurrency(4).handle([](int x) {
    return x * 2;
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  constexpr int n = 300;
  std::atomic<int> ok{0}, bad{0};
  for (int i = 0; i < n; ++i)
    broker.request_async<int>(rpc, i, {.timeout = 20s}).on_complete([&, i](auto&& v, auto e) {
      ++((!e && v && *v == 2 * i) ? ok : bad);
    });
  ASSERT_TRUE(eventually([&] { return ok + bad == n; }, 30s)) << ok << " ok, " << bad << " failed";
  EXPECT_EQ(ok.load(), n);
}

TEST(KafkaBroker, KeysPartitionsAndHeadersSurviveAndReachTheHandler) {
  auto topic = unique("keys");
  brook_test::raw_producer admin;
  ASSERT_TRUE(admin.create(topic, 3));
  kafka::broker broker{bootstrap(), quick()};
  std::mutex mtx;
  std::vector<std::string> seen;
  broker.subscriber(group_topic(topic, "k")).handle([&](const std::string& b, brook::message& m) {
    std::lock_guard lock{mtx};
    auto* h = m.header("x-tenant");
    seen.push_back(b + "|" + std::string{m.metadata("key")} + "|" +
                   std::to_string(m.delivery().partition) + "|" + (h ? *h : "-") + "|" +
                   std::to_string(m.delivery().partition));
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  brook::publish_options po;
  po.headers.set("x-tenant", "acme");
  ASSERT_FALSE(broker.publish(kafka::topic_out{.name = topic, .key = "user-7", .partition = 2},
                              std::string{"a"}, po));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return seen.size() == 1;
  }));
  std::lock_guard lock{mtx};
  EXPECT_EQ(seen[0], "a|user-7|2|acme|2");
}

// Malformed JSON and a wrong field type go to the dead-letter topic with the field
// path in the reason; the next valid message is handled; the group commits past all.
TEST(KafkaBroker, BadInputIsDeadLetteredCountedAndTheNextIsHandled) {
  auto topic = unique("bad"), dlq = unique("dlq");
  kafka::broker broker{bootstrap(), quick()};
  std::atomic<int> handled{0};
  std::mutex mtx;
  std::vector<std::string> reasons;
  broker.subscriber(group_topic(dlq, "parking")).handle([&](const brook::message& m) {
    std::lock_guard lock{mtx};
    if (auto* r = m.header("x-brook-dead-letter-reason"))
      reasons.push_back(*r + " @ " + *m.header("x-brook-broker-id"));
  });
  broker.subscriber(group_topic(topic, "strict"))
      .dead_letter(broker.publisher(kafka::topic_out{.name = dlq}))
      .handle([&](const tt::order&) { ++handled; });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  brook_test::raw_producer raw;
  raw.produce(topic, "{not json", {}, {{"content-type", "application/json"}});
  raw.produce(topic, R"({"id": 7, "qty": 1})", {}, {{"content-type", "application/json"}});
  raw.produce(topic, R"({"id": "ok", "qty": 1})", {}, {{"content-type", "application/json"}});
  raw.flush();
  ASSERT_TRUE(eventually([&] { return handled == 1; }));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return reasons.size() == 2;
  }));
  // a dead letter counts once its publish is confirmed, which can trail its arrival
  ASSERT_TRUE(eventually([&] { return stats_of(app, topic).dead_lettered == 2u; }));
  auto s = stats_of(app, topic);
  EXPECT_EQ(s.decode_errors, 2u);
  EXPECT_EQ(s.dead_lettered, 2u);
  {
    std::lock_guard lock{mtx};
    EXPECT_NE(reasons[1].find("$.id"), std::string::npos) << reasons[1];
    EXPECT_NE(reasons[1].find(topic + ":0:1"), std::string::npos) << "the record's own id";
  }
  app.stop();
  EXPECT_TRUE(lag_is("strict", topic, 0));
}

// A failure is never skipped by a later success: the offset is committed only past
// the contiguous settled prefix. Here message 2 fails once (nack), 3..9 succeed
// meanwhile; the partition is sought back, 2 comes again, and the commit covers all.
TEST(KafkaBroker, ANackIsNeverSkippedByALaterSuccess) {
  auto topic = unique("nack");
  kafka::broker broker{bootstrap(), quick()};
  std::atomic<bool> failed_once{false};
  seen_set seen;
  broker.subscriber(group_topic(topic, "careful"))
      .ack(brook::ack_policy::nack_on_error)
      .max_concurrency(4)
      .handle([&](const std::string& b) {
        if (b == "2" && !failed_once.exchange(true))
          throw std::runtime_error("the store is busy");
        seen.add(b);
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(broker.publish(topic, std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return seen.size() == 10; }));
  app.stop();
  EXPECT_TRUE(failed_once.load());
  EXPECT_TRUE(lag_is("careful", topic, 0));
  EXPECT_GE(stats_of(app, topic).nacked, 1u);
  EXPECT_EQ(stats_of(app, topic).dropped_total(), 0u);
}

// Two members of one group on four partitions; one leaves mid-stream. Its in-flight
// messages finish before its partitions are given up, the other member takes them
// over from the committed offsets: nothing is skipped, and duplicates stay within the
// at-least-once window (counted: calls - distinct).
TEST(KafkaBroker, AMemberLeavingMidStreamSkipsNothing) {
  auto topic = unique("rebalance");
  brook_test::raw_producer raw;
  ASSERT_TRUE(raw.create(topic, 4));
  constexpr int total = 2000;
  seen_set seen;
  auto slow = [&](const std::string& b) {
    std::this_thread::sleep_for(1ms);
    seen.add(b);
  };
  kafka::broker a{bootstrap(), quick()}, b{bootstrap(), quick()};
  a.subscriber(group_topic(topic, "fleet")).max_in_flight(16).handle(slow);
  b.subscriber(group_topic(topic, "fleet")).max_in_flight(16).handle(slow);
  brook::app app_a{a};
  auto app_b = std::make_unique<brook::app>(b);
  app_a.start({.log_level = "off"});
  app_b->start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app_a.ready() && app_b->ready(); }));
  for (int i = 0; i < total; ++i)
    raw.produce(topic, std::to_string(i), "key-" + std::to_string(i % 17));
  raw.flush();
  ASSERT_TRUE(eventually([&] { return seen.size() >= total / 4; }, 30s));
  auto by_b = stats_of(*app_b, topic).acked;
  app_b->stop();  // leaves the group: its partitions go to a
  ASSERT_TRUE(eventually([&] { return seen.size() == total; }, 60s)) << seen.size();
  app_a.stop();
  EXPECT_GT(by_b, 0u) << "b had a share before it left";
  EXPECT_TRUE(lag_is("fleet", topic, 0));
  const auto duplicates = seen.calls - seen.size();
  EXPECT_LE(duplicates, 64u) << "at most what was in flight at the rebalance";
}

// 100,000 records in the log and a subscriber with a credit of 32: the partitions are
// paused whenever the credit is used, so what the service holds stays within it, and
// every record is handled and committed.
TEST(KafkaBroker, AFloodOfAHundredThousandStaysWithinTheCredit) {
  auto topic = unique("flood");
  constexpr int total = 100'000;
  {
    brook_test::raw_producer raw;
    ASSERT_TRUE(raw.create(topic, 2));
    for (int i = 0; i < total; ++i)
      raw.produce(topic, std::to_string(i));
    raw.flush();
  }
  kafka::broker broker{bootstrap(), quick()};
  std::atomic<int> handled{0};
  broker.subscriber(group_topic(topic, "flood")).max_in_flight(32).handle([&](const std::string&) {
    if (handled++ < 200)
      std::this_thread::sleep_for(1ms);
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return handled == total; }, 120s)) << handled.load();
  auto s = stats_of(app, topic);
  EXPECT_LE(s.max_in_flight_seen, 32u);
  app.stop();
  EXPECT_TRUE(lag_is("flood", topic, 0));
  EXPECT_EQ(stats_of(app, topic).acked, static_cast<std::size_t>(total));
}

// A regex subscription takes every matching topic, including one made after it joined
// (librdkafka refreshes the metadata); explicit partitions read only those partitions.
TEST(KafkaBroker, APatternTakesMatchingTopicsAndExplicitPartitionsOnlyThose) {
  auto base = unique("pat");
  brook_test::raw_producer raw;
  ASSERT_TRUE(raw.create(base + ".a", 1));
  ASSERT_TRUE(raw.create(base + ".parts", 3));
  kafka::broker broker{bootstrap(), quick()};
  seen_set by_pattern, by_partition;
  broker
      .subscriber(kafka::topic{.name = "^" + base + "\\.[ab]$",
                               .pattern = true,
                               .group = "pattern",
                               .reset = kafka::offset_reset::earliest})
      .handle([&](const std::string& b, brook::message& m) {
        by_pattern.add(std::string{m.channel()} + "=" + b);
      });
  broker
      .subscriber(kafka::topic{
          .name = base + ".parts", .reset = kafka::offset_reset::earliest, .partitions = {1}})
      .handle([&](const std::string& b) { by_partition.add(b); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  raw.produce(base + ".a", "one");
  ASSERT_TRUE(raw.create(base + ".b", 1));  // after the subscription joined
  raw.produce(base + ".b", "two");
  raw.produce(base + ".c", "not matched");
  for (std::int32_t p = 0; p < 3; ++p)
    raw.produce(base + ".parts", "p" + std::to_string(p), {}, {}, p);
  raw.flush();
  ASSERT_TRUE(eventually([&] { return by_pattern.size() == 2; }, 30s)) << by_pattern.size();
  ASSERT_TRUE(eventually([&] { return by_partition.size() == 1; }));
  std::this_thread::sleep_for(300ms);
  {
    std::lock_guard lock{by_pattern.mtx};
    EXPECT_EQ(by_pattern.bodies, (std::set<std::string>{base + ".a=one", base + ".b=two"}));
  }
  std::lock_guard lock{by_partition.mtx};
  EXPECT_EQ(by_partition.bodies, std::set<std::string>{"p1"});
}

// A tombstone is a record without a value (compaction's delete marker), with its key;
// a timestamp given to the publish is the record's.
TEST(KafkaBroker, TombstonesAndTimestampsGoOutAsGiven) {
  auto topic = unique("tomb");
  kafka::broker broker{bootstrap(), quick()};
  std::mutex mtx;
  std::vector<std::string> seen;
  broker.subscriber(group_topic(topic, "t")).handle([&](const brook::message& m) {
    std::lock_guard lock{mtx};
    seen.push_back(std::string{m.metadata("key")} + "|" + std::string{m.body()} + "|" +
                   std::to_string(m.delivery().timestamp_ms));
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  ASSERT_FALSE(broker.publish(
      kafka::topic_out{.name = topic, .key = "user-1", .timestamp_ms = 1700000000000},
      std::string{"v"}));
  ASSERT_FALSE(broker.publish(kafka::topic_out{.name = topic, .key = "user-1", .tombstone = true},
                              std::string{"ignored"}));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return seen.size() == 2;
  }));
  std::lock_guard lock{mtx};
  EXPECT_EQ(seen[0], "user-1|v|1700000000000");
  EXPECT_EQ(seen[1].substr(0, 8), "user-1||");
}

// publish_batch sends each order as a record of its own under one correlation id; a
// batch subscriber takes them back in batches of at most five, in order, and the group
// commits past every one.
TEST(KafkaBroker, ABatchPublishedComesBackInBatchesInOrderAndIsCommitted) {
  auto topic = unique("batch");
  brook_test::raw_producer admin;
  ASSERT_TRUE(admin.create(topic, 1));
  kafka::broker broker{bootstrap(), quick()};
  std::mutex mtx;
  std::vector<std::string> ids;
  std::vector<std::size_t> sizes;
  std::set<std::string> correlations;
  broker.subscriber(group_topic(topic, "b"))
      .batch(5, 300ms)
      .handle([&](const std::vector<tt::order>& xs, brook::message& m) {
        std::lock_guard lock{mtx};
        sizes.push_back(xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i) {
          ids.push_back(xs[i].id);
          correlations.insert(m.batch()[i]->correlation_id);
        }
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  std::vector<tt::order> orders;
  for (int i = 0; i < 12; ++i)
    orders.push_back({"o" + std::to_string(i), i});
  auto out = broker.publisher(kafka::topic_out{.name = topic});
  ASSERT_FALSE(out.publish_batch(orders, {.correlation_id = "batch-1"}));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return ids.size() == orders.size();
  }));
  app.stop();
  std::lock_guard lock{mtx};
  for (std::size_t i = 0; i < orders.size(); ++i)
    EXPECT_EQ(ids[i], orders[i].id) << "in order";
  for (auto n : sizes)
    EXPECT_LE(n, 5u);
  EXPECT_GE(sizes.size(), 3u);
  EXPECT_EQ(correlations, std::set<std::string>{"batch-1"});
  EXPECT_TRUE(lag_is("b", topic, 0));
}

// Assigned partitions start where the declaration says: at an offset, or at the first
// record of a time; a group cannot (it starts from its commits) and is refused.
TEST(KafkaBroker, AssignedPartitionsStartAtAnOffsetOrATime) {
  auto topic = unique("start");
  brook_test::raw_producer admin;
  ASSERT_TRUE(admin.create(topic, 1));
  {
    kafka::broker pub{bootstrap(), quick()};
    brook::app app{pub};
    app.start({.log_level = "off"});
    for (int i = 0; i < 10; ++i)
      ASSERT_FALSE(pub.publish(
          kafka::topic_out{.name = topic, .partition = 0, .timestamp_ms = 1700000000000 + i * 1000},
          i));
    app.stop();
  }
  kafka::broker broker{bootstrap(), quick()};
  std::mutex mtx;
  std::vector<int> from_offset, from_time;
  broker.subscriber(kafka::topic{.name = topic, .partitions = {0}, .start_offset = 6})
      .handle([&](int x) {
        std::lock_guard lock{mtx};
        from_offset.push_back(x);
      });
  broker.subscriber(kafka::topic{.name = topic, .start_timestamp_ms = 1700000000000 + 7000 - 500})
      .handle([&](int x) {
        std::lock_guard lock{mtx};
        from_time.push_back(x);
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return from_offset.size() == 4 && from_time.size() == 3;
  }));
  std::this_thread::sleep_for(300ms);  // nothing earlier comes after
  app.stop();
  std::lock_guard lock{mtx};
  EXPECT_EQ(from_offset, (std::vector<int>{6, 7, 8, 9}));
  EXPECT_EQ(from_time, (std::vector<int>{7, 8, 9}));

  kafka::broker grouped{bootstrap(), quick()};
  grouped.subscriber(kafka::topic{.name = topic, .group = "g", .start_offset = 3}).handle([](int) {
  });
  brook::app refused{grouped};
  try {
    refused.start({.log_level = "off"});
    FAIL() << "a group with a start offset was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("committed offsets"), std::string::npos) << e.what();
  }
}

// A running subscription moves: a group member replays from an offset and from a time,
// and its commit follows it to the end again (lag 0); one reading assigned partitions goes
// back to the beginning; a topic no subscription reads is refused.
// The same test on the test broker's emulation (one partition per topic, a log that
// outlives consumption) and, with_real, on Kafka.
class KafkaSeek : public ::testing::TestWithParam<bool> {};

TEST_P(KafkaSeek, MovesARunningGroupMemberAndAnAssignedReader) {
  const bool real = GetParam();
  auto topic = unique("seek");
  if (real) {
    brook_test::raw_producer admin;
    ASSERT_TRUE(admin.create(topic, 1));
  }
  kafka::broker broker{bootstrap(), quick()};
  std::mutex mtx;
  std::vector<int> grouped, assigned;
  std::vector<std::int64_t> offsets;
  broker.subscriber(group_topic(topic, "seekers")).handle([&](int x, brook::message& m) {
    std::lock_guard lock{mtx};
    grouped.push_back(x);
    offsets.push_back(m.delivery().offset);
    EXPECT_EQ(m.delivery().partition, 0);
    EXPECT_EQ(m.metadata("key"), "k");
    EXPECT_EQ(m.delivery().timestamp_ms, 1700000000000 + x * 1000);
    EXPECT_EQ(m.headers().find("x-brook-kafka-record"), nullptr) << "the emulation's own header";
  });
  broker
      .subscriber(
          kafka::topic{.name = topic, .reset = kafka::offset_reset::earliest, .partitions = {0}})
      .handle([&](int x) {
        std::lock_guard lock{mtx};
        assigned.push_back(x);
      });
  brook::app app{broker};
  brook::testing::test_broker tb{app, {.with_real = real}};
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  EXPECT_EQ(broker.seek(unique("nobody"), 0, 0).code, brook::errc::not_found);
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(broker.publish(
        kafka::topic_out{
            .name = topic, .key = "k", .partition = 0, .timestamp_ms = 1700000000000 + i * 1000},
        i));
  auto sizes_are = [&](std::size_t g, std::size_t a) {
    return eventually([&] {
      std::lock_guard lock{mtx};
      return grouped.size() == g && assigned.size() == a;
    });
  };
  ASSERT_TRUE(sizes_are(10, 10));
  if (real) {
    ASSERT_TRUE(lag_is("seekers", topic, 0));
  }

  ASSERT_FALSE(broker.seek(topic, 0, 4));  // both subscriptions read it
  ASSERT_TRUE(sizes_are(16, 16));
  ASSERT_FALSE(broker.seek_to_time(topic, -1, 1700000000000 + 8000 - 500));
  ASSERT_TRUE(sizes_are(18, 18));
  ASSERT_FALSE(broker.seek(topic, 0, kafka::offset_beginning));
  ASSERT_TRUE(sizes_are(28, 28));
  ASSERT_FALSE(broker.seek(topic, -1, kafka::offset_end));  // nothing left to skip
  if (real) {
    ASSERT_TRUE(lag_is("seekers", topic, 0)) << "the commit followed the seeks to the end";
  }
  std::this_thread::sleep_for(300ms);  // nothing else comes
  std::lock_guard lock{mtx};
  std::vector<int> expected;
  for (int from : {0, 4, 8, 0})
    for (int i = from; i < 10; ++i)
      expected.push_back(i);
  EXPECT_EQ(grouped, expected);
  EXPECT_EQ(assigned, expected);
  for (std::size_t i = 0; i < offsets.size(); ++i)
    EXPECT_EQ(offsets[i], grouped[i]) << "record " << grouped[i] << "'s own offset";
}

INSTANTIATE_TEST_SUITE_P(Kafka, KafkaSeek, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "real" : "test_broker"; });

// Several handlers on one partition: each key's records in order, different keys in
// parallel, and the commit still covers everything once all are settled.
TEST(KafkaBroker, KeyOrderedHandlersKeepEachKeysOrderAndRunKeysInParallel) {
  auto topic = unique("keyed");
  constexpr int keys = 6, per_key = 100;
  std::mutex mtx;
  std::map<std::string, std::vector<int>> order;
  std::set<std::thread::id> threads;
  kafka::broker broker{bootstrap(), quick()};
  broker.subscriber(group_topic(topic, "keyed"))
      .max_concurrency(4)
      .key_ordered()
      .blocking()
      .handle([&](int seq, brook::message& m) {
        std::this_thread::sleep_for(std::chrono::microseconds{200});
        std::lock_guard lock{mtx};
        order[std::string{m.metadata("key")}].push_back(seq);
        threads.insert(std::this_thread::get_id());
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  {
    brook_test::raw_producer raw;
    for (int i = 0; i < per_key; ++i)
      for (int k = 0; k < keys; ++k)
        raw.produce(topic, std::to_string(i), "account-" + std::to_string(k), {}, 0);
  }
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock{mtx};
        std::size_t n = 0;
        for (auto& [k, v] : order)
          n += v.size();
        return n == keys * per_key;
      },
      30s));
  app.stop();
  std::lock_guard lock{mtx};
  for (auto& [k, v] : order) {
    ASSERT_EQ(v.size(), static_cast<std::size_t>(per_key)) << k;
    for (int i = 0; i < per_key; ++i)
      ASSERT_EQ(v[static_cast<std::size_t>(i)], i) << k << " out of order";
  }
  EXPECT_GT(threads.size(), 1u) << "keys ran in parallel";
  EXPECT_TRUE(lag_is("keyed", topic, 0));
}

// The test broker routes as Kafka: a regex pattern takes the matching topics, `more`
// topics are read too, explicit partitions read only theirs (each partition its own offsets),
// and a seek of one partition replays that partition only.
TEST(KafkaTestBroker, RoutesPatternsSeveralTopicsAndPartitionsAsKafka) {
  kafka::broker broker{"127.0.0.1:1"};  // never contacted
  seen_set by_pattern, by_more, by_partition;
  std::mutex mtx;
  std::vector<std::string> places;
  broker.subscriber(kafka::topic{.name = "^audit\\.[ab]$", .pattern = true, .group = "pattern"})
      .handle([&](const std::string& b, brook::message& m) {
        by_pattern.add(std::string{m.channel()} + "=" + b);
      });
  broker.subscriber(kafka::topic{.name = "orders", .more = {"refunds"}, .group = "both"})
      .handle([&](const std::string& b, brook::message& m) {
        by_more.add(std::string{m.channel()} + "=" + b);
      });
  broker.subscriber(kafka::topic{.name = "parts", .partitions = {1}})
      .handle([&](const std::string& b, brook::message& m) {
        by_partition.add(b);
        std::lock_guard lock{mtx};
        places.push_back(b + "@" + std::to_string(m.delivery().partition) + ":" +
                         std::to_string(m.delivery().offset));
      });
  brook::testing::test_broker tb{broker};
  for (const char* t : {"audit.a", "audit.b", "audit.c", "xaudit.a"})
    ASSERT_FALSE(tb.publish(t, std::string{t}));
  ASSERT_FALSE(tb.publish("orders", std::string{"o"}));
  ASSERT_FALSE(tb.publish("refunds", std::string{"r"}));
  ASSERT_FALSE(tb.publish("returns", std::string{"not read"}));
  for (std::int32_t p = 0; p < 3; ++p)
    for (int i = 0; i < 2; ++i)
      ASSERT_FALSE(broker.publish(kafka::topic_out{.name = "parts", .partition = p},
                                  "p" + std::to_string(p) + "-" + std::to_string(i)));
  ASSERT_TRUE(tb.wait_idle());
  {
    std::lock_guard lock{by_pattern.mtx};
    EXPECT_EQ(by_pattern.bodies, (std::set<std::string>{"audit.a=audit.a", "audit.b=audit.b"}));
  }
  {
    std::lock_guard lock{by_more.mtx};
    EXPECT_EQ(by_more.bodies, (std::set<std::string>{"orders=o", "refunds=r"}));
  }
  ASSERT_FALSE(broker.seek("parts", 1, 1));  // partition 1 again from its offset 1
  ASSERT_FALSE(broker.seek("parts", 0, 0));  // a partition it does not hold: nothing for it
  ASSERT_TRUE(tb.wait_idle());
  std::lock_guard lock{mtx};
  EXPECT_EQ(places, (std::vector<std::string>{"p1-0@1:0", "p1-1@1:1", "p1-1@1:1"}));
}

TEST(KafkaTestBroker, AcceptsTheDeclarationsAndEmulatesTheirAcks) {
  kafka::broker broker{"127.0.0.1:1"};  // never contacted
  seen_set seen;
  broker.subscriber(group_topic("orders", "billing"))
      .publisher(broker.publisher(kafka::topic_out{.name = "receipts", .key = "k"}))
      .handle([&](const tt::order& o) -> tt::receipt {
        seen.add(o.id);
        return {o.id, 1};
      });
  brook::testing::test_broker tb{broker};
  ASSERT_FALSE(tb.publish("orders", tt::order{"o1", 1}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_EQ(tb.published_raw("receipts").size(), 1u);
  kafka::broker bad{"127.0.0.1:1"};
  bad.subscriber(kafka::topic{.name = "orders", .group_instance_id = "i1"})
      .handle([](const std::string&) {});
  EXPECT_THROW(brook::testing::test_broker{bad}, std::invalid_argument)
      << "a static member without a group is refused as the driver refuses it";
}
