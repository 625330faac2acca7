// Delivery guarantees on a real Redis server: every message a subscriber takes
// ends handled, back on the broker, dead-lettered or counted as dropped with a
// reason. Each test checks that ledger, not just that "some arrived".
#include <signal.h>

#include <atomic>
#include <brook/app.hpp>
#include <brook/deferred.hpp>
#include <brook/middleware/rate_limit.hpp>
#include <brook/redis/broker.hpp>
#include <caf/actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>

#include "../../support/eventually.hpp"
#include "../../support/ledger.hpp"
#include "../../support/quiet_logs.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using brook_test::admin;
using brook_test::redis_url;
using brook_test::unique;

namespace {

bool eventually(const std::function<bool()>& p, std::chrono::milliseconds t = 10s) {
  return brook_test_support::eventually(p, t);
}

using seen_set = brook_test_support::handled_set;

brook::detail::subscriber_snapshot stats_of(brook::app& app, const std::string& address) {
  for (auto& s : app.stats())
    if (s.address == address)
      return s;
  ADD_FAILURE() << "no subscriber on " << address;
  return {};
}

void rpush_numbers(admin& a, const std::string& key, int n) {
  std::vector<std::string> argv{"RPUSH", key};
  for (int i = 0; i < n; ++i)
    argv.push_back(std::to_string(i));
  a.run(argv);
}

}  // namespace

// A rate limit holds messages with their credit: the list is popped only as fast as
// the limit lets messages start, the rest stays in Redis, and a drain in the middle
// finishes the few held ones (published = handled + still in Redis, nothing dropped).
TEST(RedisDelivery, ARateLimitLeavesTheBacklogOnTheBroker) {
  auto key = unique("limited");
  constexpr int total = 100;
  admin a;
  rpush_numbers(a, key, total);
  brook::redis::broker broker{redis_url()};
  seen_set seen;
  broker.subscriber(brook::redis::list{.name = key})
      .max_in_flight(4)
      .middleware(std::make_shared<brook::middleware::rate_limit>(50.0))
      .handle([&](const std::string& body) { seen.add(body); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return seen.size() >= 10; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_LE(stats_of(app, key).max_in_flight_seen, 4u) << "waiting for the limit uses credit";
  app.stop();
  auto left = a.integer({"LLEN", key});
  auto s = stats_of(app, key);
  EXPECT_EQ(s.dropped_total(), 0u);
  EXPECT_EQ(seen.calls, seen.size()) << "nothing handled twice";
  EXPECT_EQ(static_cast<long long>(seen.size()) + left, total)
      << "handled " << seen.size() << " + still in Redis " << left << " must be all " << total;
  EXPECT_GT(left, 40) << "50/s for well under a second: most of the backlog is still in Redis";
}

// A drain stops taking work first: no credit goes back, the list is not popped
// again, and what was not taken is still in Redis afterwards.
TEST(RedisDelivery, DrainLeavesUntakenListItemsOnTheBroker) {
  auto key = unique("drain-list");
  constexpr int total = 200;
  admin a;
  rpush_numbers(a, key, total);
  brook::redis::broker broker{redis_url()};
  seen_set seen;
  broker.subscriber(brook::redis::list{.name = key})
      .max_in_flight(8)
      .handle([&](const std::string& body) {
        std::this_thread::sleep_for(5ms);
        seen.add(body);
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return seen.size() >= 20; }));
  app.stop();
  auto left = a.integer({"LLEN", key});
  auto s = stats_of(app, key);
  EXPECT_EQ(s.dropped_total(), 0u);
  EXPECT_EQ(seen.calls, seen.size()) << "nothing handled twice";
  EXPECT_EQ(static_cast<long long>(seen.size()) + left, total)
      << "handled " << seen.size() << " + still in Redis " << left << " must be all " << total;
  EXPECT_GT(left, 0) << "the drain stopped popping";
}

// Pub/sub cannot give messages back: a drain finishes everything it took,
// including what waited in the driver's buffer beyond the credit.
TEST(RedisDelivery, DrainFinishesEveryPubSubMessageItTook) {
  auto channel = unique("drain-ps");
  brook::redis::broker broker{redis_url()};
  seen_set seen;
  std::atomic<bool> gate{false};
  broker.subscriber(channel).max_in_flight(4).handle([&](const std::string& body) {
    while (!gate)
      std::this_thread::sleep_for(1ms);
    seen.add(body);
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  constexpr int total = 50;
  for (int i = 0; i < total; ++i)
    ASSERT_FALSE(broker.publish(channel, std::to_string(i)));
  // All 50 reached the driver (4 in the core, the rest in its buffer).
  ASSERT_TRUE(eventually([&] { return stats_of(app, channel).received >= 1; }));
  std::this_thread::sleep_for(100ms);
  // Stopped from another thread while the handler is still busy.
  std::thread stopper{[&] { app.stop(); }};
  std::this_thread::sleep_for(50ms);
  gate = true;
  stopper.join();
  auto s = stats_of(app, channel);
  EXPECT_EQ(seen.size() + s.dropped_total(), static_cast<std::size_t>(total));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(total)) << "the buffer was finished, not dropped";
}

// A handler that dies with a message in flight: a stream group leaves it
// pending (nacked), a list cannot take it back, so it is counted as lost.
TEST(RedisDelivery, HandlerDeathNacksStreamEntriesAndCountsListLosses) {
  auto key = unique("death-list");
  auto stream = unique("death-stream");
  brook::redis::broker broker{redis_url()};
  std::mutex mtx;
  std::vector<brook::promise<void>> held;  // never completed: the messages stay in flight
  auto park = [&](const std::string&) {
    brook::promise<void> p;
    std::lock_guard lock{mtx};
    held.push_back(p);
    return p.get_deferred();
  };
  broker.subscriber(brook::redis::list{.name = key}).handle(park);
  broker.subscriber(brook::redis::stream{.name = stream, .group = "g", .last_id = "0"})
      .handle(park);
  brook::app app{broker};
  app.start({.log_level = "off"});
  admin a;
  a.run({"RPUSH", key, "one"});
  a.run({"XADD", stream, "*", "__data__", "two"});
  ASSERT_TRUE(eventually(
      [&] { return stats_of(app, key).in_flight == 1 && stats_of(app, stream).in_flight == 1; }));
  for (auto& h : app.runtime()->handler_actors(key))
    caf::anon_send_exit(h, caf::exit_reason::unhandled_exception);
  for (auto& h : app.runtime()->handler_actors(stream))
    caf::anon_send_exit(h, caf::exit_reason::unhandled_exception);
  ASSERT_TRUE(eventually([&] { return stats_of(app, key).restarts == 1; }));
  ASSERT_TRUE(eventually([&] { return stats_of(app, stream).restarts == 1; }));
  auto list = stats_of(app, key);
  EXPECT_EQ(list.dropped_for("handler_died"), 1u);
  EXPECT_EQ(list.nacked, 0u) << "a list cannot redeliver: not a nack";
  auto st = stats_of(app, stream);
  EXPECT_EQ(st.dropped_total(), 0u);
  EXPECT_EQ(st.nacked, 1u);
  EXPECT_EQ(a.pending(stream, "g"), 1) << "still pending in the group, claimable";
  {
    std::lock_guard lock{mtx};
    for (auto& p : held)
      p.set_value();
  }
  app.stop();
}

// A result that cannot be written (its broker is down) keeps the input: the
// stream entry is nacked (stays pending), never acknowledged.
TEST(RedisDelivery, FailedResultPublishKeepsTheInputPending) {
  auto in = unique("in");
  brook::redis::broker broker{redis_url()};
  brook::redis::settings down_settings;
  down_settings.connect_timeout = 100ms;
  down_settings.queued_timeout = 200ms;
  brook::redis::broker down{"redis://127.0.0.1:1", down_settings};  // nothing listens there
  broker.subscriber(brook::redis::stream{.name = in, .group = "g", .last_id = "0"})
      .publisher(down.publisher(brook::redis::list_out{"nowhere"}))
      .handle([](const std::string& s) { return s + "!"; });
  brook::app app{{broker, down}};
  app.start({.log_level = "off"});
  admin a;
  a.run({"XADD", in, "*", "__data__", "x"});
  ASSERT_TRUE(eventually([&] { return stats_of(app, in).nacked >= 1; }));
  auto s = stats_of(app, in);
  EXPECT_EQ(s.acked, 0u);
  EXPECT_EQ(s.rejected, 0u);
  EXPECT_EQ(s.nacked, 1u);
  EXPECT_EQ(a.pending(in, "g"), 1) << "the input was not acknowledged";
  app.stop();
}

// The default consumer name is stable: a restarted service re-reads the
// entries its previous run left pending, instead of stranding them.
TEST(RedisDelivery, RestartRecoversPendingEntriesUnderTheSameConsumerName) {
  auto in = unique("restart");
  admin a;
  for (int i = 0; i < 5; ++i)
    a.run({"XADD", in, "*", "__data__", std::to_string(i)});
  {
    brook::redis::broker broker{redis_url()};
    broker.subscriber(brook::redis::stream{.name = in, .group = "g", .last_id = "0"})
        .ack(brook::ack_policy::nack_on_error)
        .handle([](const std::string&) { throw std::runtime_error("not now"); });
    brook::app app{broker};
    app.start({.log_level = "off"});
    ASSERT_TRUE(eventually([&] { return stats_of(app, in).nacked == 5; }));
    app.stop();
  }
  ASSERT_EQ(a.pending(in, "g"), 5);
  seen_set seen;
  brook::redis::broker broker{redis_url()};
  broker.subscriber(brook::redis::stream{.name = in, .group = "g", .last_id = "0"})
      .handle([&](const std::string& b) { seen.add(b); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return seen.size() == 5; }));
  EXPECT_TRUE(eventually([&] { return a.pending(in, "g") == 0; }));
  auto info = a.run({"XINFO", "CONSUMERS", in, "g"});
  EXPECT_EQ(info->elements, 1u) << "one stable consumer name across both runs";
  app.stop();
}

// A poison message stops at max attempts and reaches the dead-letter list
// with the reason, original channel, attempt count and the entry id.
TEST(RedisDelivery, PoisonMessageStopsAtMaxAttemptsAndIsDeadLettered) {
  auto in = unique("poison"), dlq = unique("dlq");
  brook::redis::broker broker{redis_url()};
  std::atomic<int> calls{0};
  broker.subscriber(brook::redis::stream{.name = in, .group = "g", .last_id = "0"})
      .ack(brook::ack_policy::nack_on_error)
      .retry({.max_attempts = 3, .backoff = {.initial = 5ms, .max = 20ms}})
      .dead_letter(broker.publisher(brook::redis::list_out{dlq}))
      .handle([&](const std::string&) {
        ++calls;
        throw std::runtime_error("cannot parse the invoice");
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  admin a;
  auto id = a.run({"XADD", in, "*", "__data__", "poison"});
  ASSERT_TRUE(eventually([&] { return a.integer({"LLEN", dlq}) == 1; }));
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(eventually([&] { return a.pending(in, "g") == 0; })) << "acked after dead-lettering";
  // a dead letter counts once its publish is confirmed, which can trail its arrival
  ASSERT_TRUE(eventually([&] { return stats_of(app, in).dead_lettered == 1u; }));
  auto s = stats_of(app, in);
  EXPECT_EQ(s.dead_lettered, 1u);
  EXPECT_EQ(s.retried, 2u);
  EXPECT_EQ(s.dropped_total(), 0u);
  auto raw = a.run({"LINDEX", dlq, "0"});
  std::string wire{raw->str, raw->len};
  EXPECT_NE(wire.find("poison"), std::string::npos);
  EXPECT_NE(wire.find("cannot parse the invoice"), std::string::npos);
  EXPECT_NE(wire.find(in), std::string::npos) << "original channel";
  EXPECT_NE(wire.find(std::string{id->str, id->len}), std::string::npos) << "the entry id";
  app.stop();
}

// Pub/sub has no redelivery: a nack is a loss, counted and with its reason.
TEST(RedisDelivery, NackOnPubSubIsACountedDrop) {
  auto channel = unique("nack-ps");
  brook::redis::broker broker{redis_url()};
  broker.subscriber(channel).ack(brook::ack_policy::nack_on_error).handle([](const std::string&) {
    throw std::runtime_error("downstream is away");
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(broker.publish(channel, std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return stats_of(app, channel).dropped_total() == 3; }));
  auto s = stats_of(app, channel);
  EXPECT_EQ(s.dropped_for("not_redeliverable"), 3u);
  EXPECT_EQ(s.nacked, 0u);
  app.stop();
}

// Redis down at start: the service starts, is not ready, and becomes ready and
// handles messages once Redis is up.
TEST(RedisDelivery, StartsWhileRedisIsDownAndBecomesReadyWhenItIsUp) {
  const std::string port = "6397";
  const std::string env = "BROOK_REDIS_PORT=" + port;
  brook_test::services("stop redis", env);
  brook::redis::settings s;
  s.connect_timeout = 200ms;
  s.reconnect_backoff_min = 50ms;
  s.reconnect_backoff_max = 200ms;
  auto url = "redis://127.0.0.1:" + port;
  brook::redis::broker broker{url, s};
  auto key = unique("late");
  seen_set seen;
  broker.subscriber(brook::redis::list{.name = key}).handle([&](const std::string& b) {
    seen.add(b);
  });
  brook::app app{broker};
  ASSERT_NO_THROW(app.start({.log_level = "off"}));
  EXPECT_FALSE(app.ready());
  ASSERT_EQ(brook_test::services("start redis", env), 0);
  EXPECT_TRUE(eventually([&] { return app.ready(); }));
  admin a{url};
  a.run({"RPUSH", key, "hello"});
  EXPECT_TRUE(eventually([&] { return seen.size() == 1; }));
  app.stop();
  brook_test::services("stop redis", env);
}

// A pub/sub flood beyond the subscription's buffer: every message is either
// handled or counted as a driver drop (the overflow), none disappears.
TEST(RedisDelivery, PubSubOverflowIsCountedAsDriverDrops) {
  auto channel = unique("flood");
  brook::redis::settings s;
  s.pubsub_buffer = 10;
  brook::redis::broker broker{redis_url(), s};
  seen_set seen;
  std::atomic<bool> gate{false};
  broker.subscriber(channel).max_in_flight(1).handle([&](const std::string& body) {
    while (!gate)
      std::this_thread::sleep_for(1ms);
    seen.add(body);
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  constexpr int total = 200;
  for (int i = 0; i < total; ++i)
    ASSERT_FALSE(broker.publish(channel, std::to_string(i)));
  gate = true;
  ASSERT_TRUE(eventually([&] {
    auto st = stats_of(app, channel);
    return seen.size() + st.dropped_for("driver") == static_cast<std::size_t>(total);
  })) << seen.size()
      << " handled, " << stats_of(app, channel).dropped_for("driver") << " dropped";
  auto st = stats_of(app, channel);
  EXPECT_GE(st.dropped_for("driver"), static_cast<std::uint64_t>(total / 2))
      << "1 in flight + 10 buffered survive (and a few still in the socket when the gate opens)";
  EXPECT_EQ(st.dropped_total(), st.dropped_for("driver"));
  app.stop();
  EXPECT_EQ(seen.size() + stats_of(app, channel).dropped_total(), static_cast<std::size_t>(total));
}

// A list cannot keep a retry in memory across a stop: with retry_through the retry
// goes back onto the list with its attempt and due time, and a drain returns one that
// was waiting. The next run takes it at attempt 2, after its time.
TEST(RedisDelivery, RetryThroughKeepsAListsRetriesOnTheBrokerAcrossAStop) {
  auto key = unique("retry-through");
  admin a;
  {
    brook::redis::broker broker{redis_url()};
    broker.subscriber(brook::redis::list{.name = key})
        .retry({.max_attempts = 5, .backoff = {.initial = 1500ms, .max = 1500ms, .jitter = 0}})
        .retry_through(broker.publisher(brook::redis::list_out{.name = key}))
        .handle([](const std::string&) { throw std::runtime_error("downstream is away"); });
    brook::app app{broker};
    app.start({.log_level = "off"});
    ASSERT_TRUE(eventually([&] { return app.ready(); }));
    ASSERT_FALSE(broker.publish(brook::redis::list_out{.name = key}, std::string{"job"}));
    // Failed once, republished, popped again and now waiting for its time in memory.
    ASSERT_TRUE(eventually([&] {
      auto s = stats_of(app, key);
      return s.retried == 1 && s.received == 2;
    }));
    app.stop();
    auto s = stats_of(app, key);
    EXPECT_EQ(s.dropped_total(), 0u);
    EXPECT_EQ(a.integer({"LLEN", key}), 1) << "the waiting retry went back onto the list";
  }
  brook::redis::broker broker{redis_url()};
  std::atomic<std::uint32_t> attempt{0};
  broker.subscriber(brook::redis::list{.name = key})
      .handle([&](const std::string&, brook::message& m) { attempt = m.delivery().attempt; });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return attempt.load() != 0; }));
  EXPECT_EQ(attempt.load(), 2u);
  EXPECT_EQ(a.integer({"LLEN", key}), 0);
  app.stop();
}

// Readiness follows the connection: false while Redis is away, true again once every
// subscription is back; what the broker kept meanwhile is handled.
TEST(RedisDelivery, ReadinessFollowsTheConnection) {
  const std::string env = "BROOK_REDIS_PORT=6398";
  ASSERT_EQ(brook_test::services("start redis", env), 0);
  brook::redis::broker broker{"redis://127.0.0.1:6398", brook_test::quick_reconnect_settings()};
  auto key = unique("ready");
  seen_set seen;
  broker.subscriber(brook::redis::list{.name = key}).handle([&](const std::string& b) {
    seen.add(b);
  });
  broker.subscriber(unique("ready-ch")).handle([](const std::string&) {});
  brook::app app{broker};
  app.start({.log_level = "off"});
  EXPECT_TRUE(eventually([&] { return app.ready(); }));
  ASSERT_EQ(brook_test::services("stop redis", env), 0);
  EXPECT_TRUE(eventually([&] { return !app.ready(); })) << "Redis is away";
  ASSERT_EQ(brook_test::services("start redis", env), 0);
  EXPECT_TRUE(eventually([&] { return app.ready(); })) << "back";
  ASSERT_FALSE(broker.publish(brook::redis::list_out{.name = key}, std::string{"after"}));
  EXPECT_TRUE(eventually([&] { return seen.size() == 1; }));
  EXPECT_GE(stats_of(app, key).interruptions, 1u);
  app.stop();
  brook_test::services("stop redis", env);
}

// A server that keeps its sockets open and stops answering (SIGSTOP: a hung process,
// a half-open connection) is detected by the heartbeat deadline, reported as a stall,
// and readiness goes false; when it answers again everything resumes by itself and a
// stream group's ledger holds: every entry, including those published during the stall,
// handled once and acknowledged.
TEST(RedisDelivery, AStalledServerIsDetectedAndTheServiceResumes) {
  const std::string env = "BROOK_REDIS_PORT=6404";
  ASSERT_EQ(brook_test::services("start redis", env), 0);
  const char* run_dir = std::getenv("BROOK_RUN_DIR");
  std::ifstream pidfile{std::string{run_dir && *run_dir ? run_dir : "/tmp/brook-run"} +
                        "/redis-6404/redis.pid"};
  pid_t pid = 0;
  pidfile >> pid;
  ASSERT_GT(pid, 0);
  auto s = brook_test::quick_reconnect_settings();
  s.heartbeat = 100ms;
  s.stall_timeout = 500ms;
  brook::redis::broker broker{"redis://127.0.0.1:6404", s};
  auto key = unique("stall");
  seen_set seen;
  broker.subscriber(brook::redis::stream{.name = key, .group = "g", .last_id = "0"})
      .handle([&](const std::string& b) { seen.add(b); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  auto publish = [&](int from, int to) {
    for (int i = from; i < to; ++i)
      broker.publisher(brook::redis::stream_out{.name = key})
          .publish_async(std::to_string(i), [](const brook::error_info&) {});
  };
  publish(0, 20);
  ASSERT_TRUE(eventually([&] { return seen.size() == 20; }));

  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  EXPECT_TRUE(eventually([&] { return !app.ready(); }, 5s)) << "the stall is noticed";
  publish(20, 40);  // held by the driver until Redis answers again
  // Readiness follows the subscriptions at once; the connection actor counts the stall
  // when its event arrives, a moment later.
  EXPECT_TRUE(eventually(
      [&] {
        auto c = app.connections().at(0);
        return c.stalls >= 1 && c.last_error.find("stall_timeout") != std::string::npos;
      },
      5s));
  auto during = app.connections();
  ASSERT_EQ(during.size(), 1u);
  EXPECT_FALSE(during[0].up);
  EXPECT_NE(during[0].last_error.find("stall_timeout"), std::string::npos) << during[0].last_error;
  std::this_thread::sleep_for(700ms);  // longer than stall_timeout: reconnects keep failing
  EXPECT_FALSE(app.ready());
  ASSERT_EQ(::kill(pid, SIGCONT), 0);

  EXPECT_TRUE(eventually([&] { return app.ready(); }, 10s)) << "back by itself";
  EXPECT_TRUE(eventually([&] { return seen.size() == 40; }, 10s)) << "handled " << seen.size();
  admin a{"redis://127.0.0.1:6404"};
  EXPECT_TRUE(eventually([&] { return a.pending(key, "g") == 0; })) << "all acknowledged";
  app.stop();
  auto st = stats_of(app, key);
  EXPECT_EQ(st.dropped_total(), 0u);
  EXPECT_EQ(seen.size(), 40u) << "published 40 = handled (each once at least)";
  EXPECT_EQ(a.integer({"XLEN", key}), 40) << "each publish went out (a resend may not duplicate "
                                             "here: Redis never saw the stalled ones)";
  auto after = app.connections();
  EXPECT_TRUE(after[0].connects >= 2u) << "connected, then restored";
  brook_test::services("stop redis", env);
}

// transport::restart (what the connection actor calls after a fatal error) remakes every
// connection; the subscriptions resume by themselves and nothing the stream kept is lost.
TEST(RedisDelivery, ARestartRemakesTheConnectionsAndSubscriptionsResume) {
  brook::redis::broker broker{redis_url()};
  auto key = unique("restart");
  seen_set seen;
  broker.subscriber(brook::redis::stream{.name = key, .group = "g", .last_id = "0"})
      .handle([&](const std::string& b) { seen.add(b); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  auto out = broker.publisher(brook::redis::stream_out{.name = key});
  for (int i = 0; i < 10; ++i)
    ASSERT_FALSE(out.publish(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return seen.size() == 10; }));
  ASSERT_FALSE(broker.get_transport()->restart());
  EXPECT_TRUE(eventually([&] { return app.connections().at(0).connects >= 2; }));
  EXPECT_TRUE(eventually([&] { return app.ready(); }));
  for (int i = 10; i < 20; ++i)
    ASSERT_FALSE(out.publish(std::to_string(i)));
  EXPECT_TRUE(eventually([&] { return seen.size() == 20; }));
  admin a;
  EXPECT_TRUE(eventually([&] { return a.pending(key, "g") == 0; })) << "all acknowledged";
  app.stop();
  EXPECT_GE(stats_of(app, key).interruptions, 1u) << "the subscription saw its connection go";
  // The ledger: 20 published = 20 handled (each at least once) + 0 pending + 0 dropped.
  EXPECT_EQ(stats_of(app, key).dropped_total(), 0u);
  EXPECT_EQ(a.integer({"XLEN", key}), 20);
}
