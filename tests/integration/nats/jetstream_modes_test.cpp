// JetStream's other consumers and batches against a real nats-server: push
// consumers with a deliver group shared by two services, what a stopping push
// subscriber hands back, ordered consumers replaying a stream, batch handlers on
// a pull consumer, and a result publish that fails leaving its input on the
// stream. Each is checked by its ledger.
#include <atomic>
#include <brook/app.hpp>
#include <brook/nats/broker.hpp>
#include <brook/redis/broker.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "../../support/eventually.hpp"
#include "../../support/ledger.hpp"
#include "../../unit/test_types.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using brook_test::consumer;
using brook_test::nats_url;
using brook_test::stats_of;
using brook_test::unique;
using brook_test_support::eventually;
using seen_set = brook_test_support::handled_set;
namespace nats = brook::nats;

namespace {

nats::settings quick() {
  nats::settings s;
  s.fetch_wait = 100ms;
  s.reconnect_wait = 50ms;
  return s;
}

/// The deliver group a durable consumer has on the server ("" when none, "?" when missing).
std::string deliver_group(const std::string& stream, const std::string& durable) {
  std::string out = "?";
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsConsumerInfo* ci = nullptr;
  if (natsConnection_ConnectTo(&nc, nats_url().c_str()) == NATS_OK &&
      natsConnection_JetStream(&js, nc, nullptr) == NATS_OK &&
      js_GetConsumerInfo(&ci, js, stream.c_str(), durable.c_str(), nullptr, nullptr) == NATS_OK)
    out = ci->Config->DeliverGroup ? ci->Config->DeliverGroup : "";
  if (ci)
    jsConsumerInfo_Destroy(ci);
  if (js)
    jsCtx_Destroy(js);
  if (nc)
    natsConnection_Destroy(nc);
  return out;
}

::testing::AssertionResult settled_on_server(const std::string& stream, const std::string& name) {
  brook_test::consumer_state c;
  if (eventually([&] {
        c = consumer(nats_url(), stream, name);
        return c.pending == 0 && c.ack_pending == 0;
      }))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << name << ": pending " << c.pending << ", ack pending " << c.ack_pending;
}

}  // namespace

// FastStream's default JetStream subscriber: a push consumer whose durable has a
// deliver group; two services in the group share the messages, each handled once.
TEST(NatsJetStreamPush, ADeliverGroupSharesTheStreamAcrossTwoServices) {
  auto subject = unique("push"), stream = unique("pushs");
  constexpr int total = 200;
  seen_set seen;
  std::atomic<int> by_a{0}, by_b{0};
  nats::broker a{nats_url(), quick()}, b{nats_url(), quick()};
  auto spec = nats::jetstream{
      .name = subject, .stream = stream, .queue = "billing", .mode = nats::consumer_mode::push};
  a.subscriber(spec).handle([&](const std::string& m) {
    ++by_a;
    seen.add(m);
  });
  b.subscriber(spec).handle([&](const std::string& m) {
    ++by_b;
    seen.add(m);
  });
  brook::app app_a{a}, app_b{b};
  app_a.start({.log_level = "off"});
  app_b.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app_a.ready() && app_b.ready(); }));
  for (int i = 0; i < total; ++i)
    ASSERT_FALSE(a.publish(nats::jetstream_out{.name = subject}, std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return seen.size() == total; }));
  const auto durable = "billing-" + subject;
  ASSERT_TRUE(settled_on_server(stream, durable));
  EXPECT_EQ(seen.calls, static_cast<std::size_t>(total)) << "each once, by one member";
  EXPECT_GT(by_a.load(), 0);
  EXPECT_GT(by_b.load(), 0);
  EXPECT_EQ(deliver_group(stream, durable), "billing");
  EXPECT_EQ(stats_of(app_a, subject).acked + stats_of(app_b, subject).acked,
            static_cast<std::uint64_t>(total));
}

// The server pushes beyond the credit into nats.c's buffer; a stopping subscriber
// hands that back at once (NAK), so the next member has it without waiting for
// ack_wait. Ledger: handled by the first + handled by the second == published.
TEST(NatsJetStreamPush, AStoppingSubscriberHandsBackWhatItsCreditNeverTook) {
  auto subject = unique("pushback"), stream = unique("pbs");
  constexpr int total = 60;
  seen_set first, second;
  auto spec = nats::jetstream{.name = subject,
                              .stream = stream,
                              .queue = "q",
                              .ack_wait = 60s,  // a message not handed back would wait this long
                              .mode = nats::consumer_mode::push};
  {
    nats::broker broker{nats_url(), quick()};
    broker.subscriber(spec).max_in_flight(2).handle([&](const std::string& m) {
      std::this_thread::sleep_for(20ms);
      first.add(m);
    });
    brook::app app{broker};
    app.start({.log_level = "off"});
    ASSERT_TRUE(eventually([&] { return app.ready(); }));
    for (int i = 0; i < total; ++i)
      ASSERT_FALSE(broker.publish(nats::jetstream_out{.name = subject}, std::to_string(i)));
    ASSERT_TRUE(eventually([&] { return first.size() >= 5; }));
    app.stop();
    EXPECT_LE(stats_of(app, subject).max_in_flight_seen, 2u);
  }
  ASSERT_LT(first.size(), static_cast<std::size_t>(total)) << "the test needs some left over";
  nats::broker broker{nats_url(), quick()};
  broker.subscriber(spec).handle([&](const std::string& m) { second.add(m); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return first.size() + second.size() >= total; }, 15s))
      << first.size() << " + " << second.size();
  ASSERT_TRUE(settled_on_server(stream, "q-" + subject));
  std::set<std::string> all = first.bodies;
  all.insert(second.bodies.begin(), second.bodies.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(total)) << "nothing lost";
}

// An ordered consumer replays the stream in order, no acks; a second one replays it again.
TEST(NatsJetStreamOrdered, ReplaysTheStreamInOrderAndAgainForAnotherReader) {
  auto subject = unique("ordered"), stream = unique("ords");
  constexpr int total = 100;
  std::mutex mtx;
  std::vector<int> got_a, got_b;
  auto spec =
      nats::jetstream{.name = subject, .stream = stream, .mode = nats::consumer_mode::ordered};
  nats::broker a{nats_url(), quick()};
  a.subscriber(spec).handle([&](int v) {
    std::lock_guard lock{mtx};
    got_a.push_back(v);
  });
  brook::app app_a{a};
  app_a.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app_a.ready(); }));
  for (int i = 0; i < total; ++i)
    ASSERT_FALSE(a.publish(nats::jetstream_out{.name = subject}, i));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return got_a.size() == total;
  }));
  nats::broker b{nats_url(), quick()};
  b.subscriber(spec).handle([&](int v) {
    std::lock_guard lock{mtx};
    got_b.push_back(v);
  });
  brook::app app_b{b};
  app_b.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return got_b.size() == total;
  }));
  std::lock_guard lock{mtx};
  for (int i = 0; i < total; ++i) {
    ASSERT_EQ(got_a[static_cast<std::size_t>(i)], i) << "in stream order";
    ASSERT_EQ(got_b[static_cast<std::size_t>(i)], i) << "replayed from the start";
  }
  EXPECT_EQ(stats_of(app_a, subject).processed, static_cast<std::uint64_t>(total));
}

TEST(NatsJetStreamOrdered, ADurableOrQueueIsRefusedWithTheFix) {
  nats::broker broker{nats_url(), quick()};
  broker
      .subscriber(nats::jetstream{.name = unique("o"),
                                  .stream = unique("os"),
                                  .durable = "d",
                                  .mode = nats::consumer_mode::ordered})
      .handle([](const std::string&) {});
  brook::app app{broker};
  try {
    app.start({.log_level = "off"});
    FAIL() << "an ordered consumer with a durable started";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("consumer_mode::push"), std::string::npos) << e.what();
  }
}

// FastStream's PullSub(batch=True): a fetch's messages as one list; a malformed
// one is dead-lettered alone; everything is acked on the server.
TEST(NatsJetStreamBatch, APullConsumerHandsOutBatchesAndAMalformedMessageFailsAlone) {
  auto subject = unique("batch"), stream = unique("bs"), dlq = unique("bdlq");
  constexpr int total = 35;
  std::mutex mtx;
  std::vector<std::size_t> sizes;
  std::set<std::string> ids;
  std::atomic<int> parked{0};
  nats::broker broker{nats_url(), quick()};
  broker.subscriber(dlq).handle([&](const std::string&) { ++parked; });
  broker.subscriber(nats::jetstream{.name = subject, .stream = stream, .queue = "q", .batch = 10})
      .batch(10, 100ms)
      .max_in_flight(40)
      .dead_letter(broker.publisher(dlq))
      .handle([&](const std::vector<tt::order>& xs) {
        std::lock_guard lock{mtx};
        sizes.push_back(xs.size());
        for (auto& x : xs)
          ids.insert(x.id);
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  for (int i = 0; i < total; ++i) {
    if (i == 17) {
      ASSERT_FALSE(broker.publish(nats::jetstream_out{.name = subject}, std::string{"{oops"}));
    }
    ASSERT_FALSE(broker.publish(nats::jetstream_out{.name = subject},
                                tt::order{"b" + std::to_string(i), i}));
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return ids.size() == total;
  }));
  ASSERT_TRUE(eventually([&] { return parked == 1; }));
  ASSERT_TRUE(settled_on_server(stream, "q-" + subject));
  // a dead letter counts once its publish is confirmed, which can trail its arrival
  ASSERT_TRUE(eventually([&] { return stats_of(app, subject).dead_lettered == 1u; }));
  auto s = stats_of(app, subject);
  EXPECT_EQ(s.received, total + 1u);
  EXPECT_EQ(s.acked, total + 0u);
  EXPECT_EQ(s.dead_lettered, 1u);
  EXPECT_EQ(s.decode_errors, 1u);
  std::lock_guard lock{mtx};
  bool some_batch = false;
  for (auto n : sizes) {
    EXPECT_LE(n, 10u);
    some_batch = some_batch || n > 1;
  }
  EXPECT_TRUE(some_batch) << "messages that arrived together ran together";
}

// The result's publish fails (its broker is down): the input is not acknowledged
// but handed back, so it stays on the stream and a later consumer handles it.
TEST(NatsJetStreamDelivery, AFailedResultPublishLeavesTheInputOnTheStream) {
  auto subject = unique("result"), stream = unique("rs");
  brook::redis::settings down_settings;
  down_settings.connect_timeout = 100ms;
  down_settings.queued_timeout = 200ms;
  auto spec = nats::jetstream{.name = subject, .stream = stream, .queue = "q"};
  {
    nats::broker broker{nats_url(), quick()};
    brook::redis::broker down{"redis://127.0.0.1:1", down_settings};  // nothing listens there
    broker.subscriber(spec).publisher(down.publisher("nowhere")).handle([](const std::string& s) {
      return s + "!";
    });
    brook::app app{{broker, down}};
    app.start({.log_level = "off"});
    ASSERT_FALSE(broker.publish(nats::jetstream_out{.name = subject}, std::string{"x"}));
    ASSERT_TRUE(eventually([&] { return stats_of(app, subject).nacked >= 1; }));
    auto s = stats_of(app, subject);
    EXPECT_EQ(s.acked, 0u);
    EXPECT_EQ(s.rejected, 0u);
    app.stop();
  }
  seen_set seen;
  nats::broker broker{nats_url(), quick()};
  broker.subscriber(spec).handle([&](const std::string& b) { seen.add(b); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return seen.size() == 1; }, 10s)) << "the input was kept";
  ASSERT_TRUE(settled_on_server(stream, "q-" + subject));
}
