// The NATS broker end to end against a real nats-server with JetStream: typed
// handlers, path parameters, queue groups across services, request/reply, PubAck
// publishes, bad input, backpressure and a server restart, each checked by its ledger.
#include <atomic>
#include <brook/app.hpp>
#include <brook/middleware/rate_limit.hpp>
#include <brook/nats/broker.hpp>
#include <brook/task.hpp>
#include <brook/testing/test_broker.hpp>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

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

/// Whether the server's consumer settles down to nothing pending and nothing unacknowledged
/// (it applies acks asynchronously, a moment after they arrive).
::testing::AssertionResult settled_on_server(const std::string& url, const std::string& stream,
                                             const std::string& name) {
  brook_test::consumer_state c;
  if (eventually([&] {
        c = consumer(url, stream, name);
        return c.pending == 0 && c.ack_pending == 0;
      }))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << name << ": pending " << c.pending << ", ack pending " << c.ack_pending;
}

TEST(NatsBroker, ATypedHandlerOnATemplatedSubjectRepliesAndPublishes) {
  nats::broker broker{nats_url(), quick()};
  auto in = unique("orders"), out = unique("receipts");
  std::mutex mtx;
  std::vector<std::string> regions;
  broker.subscriber(in + ".{region}")
      .publisher(broker.publisher(out))
      .handle([&](const tt::order& o, brook::path<"region"> region) -> tt::receipt {
        std::lock_guard lock{mtx};
        regions.push_back(region.value);
        return {o.id, o.qty * 10};
      });
  seen_set published;
  broker.subscriber(out).handle([&](const tt::receipt& r) { published.add(r.id); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  auto r = broker.request<tt::receipt>(in + ".eu", tt::order{"o1", 4}, {.timeout = 5s});
  EXPECT_EQ(r.id, "o1");
  EXPECT_EQ(r.total, 40);
  ASSERT_TRUE(eventually([&] { return published.size() == 1; })) << "the result also goes out";
  std::lock_guard lock{mtx};
  EXPECT_EQ(regions, std::vector<std::string>{"eu"});
}

TEST(NatsBroker, AThousandConcurrentRequestsFromHandlersAtOneWorkerAllComplete) {
  constexpr int n = 1000;
  auto in = unique("fanin"), out = unique("quotes"), rpc = unique("price");
  nats::broker broker{nats_url(), quick()};
  std::atomic<int> arrived{0};
  broker.subscriber(rpc).max_in_flight(n).handle([&](std::string sku) -> brook::task<std::string> {
    ++arrived;
    while (arrived.load() < n)
      co_await brook::sleep_for(2ms);
    co_return sku + ":42";
  });
  seen_set quotes;
  broker.subscriber(out).max_in_flight(n).handle([&](const std::string& q) { quotes.add(q); });
  broker.subscriber(in)
      .max_in_flight(n)
      .publisher(broker.publisher(out))
      .handle([&](std::string s) -> brook::task<std::string> {
        co_return co_await broker.request_async<std::string>(rpc, s, {.timeout = 30s});
      });
  brook::app app{broker};
  app.start({.workers = 1, .log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  for (int i = 0; i < n; ++i)
    ASSERT_FALSE(broker.publish(in, "sku" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return quotes.size() == static_cast<std::size_t>(n); }, 40s))
      << quotes.size();
  EXPECT_EQ(arrived.load(), n);
  app.stop();
  auto s = stats_of(app, in);
  EXPECT_EQ(s.acked, static_cast<std::size_t>(n));
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.dropped_total(), 0u);
}

// Two services in one queue group: each message is handled by exactly one of them.
TEST(NatsBroker, AQueueGroupSharesTheSubjectAcrossServices) {
  auto subject = unique("work");
  constexpr int total = 200;
  seen_set seen;
  std::atomic<int> by_a{0}, by_b{0};
  nats::broker a{nats_url(), quick()}, b{nats_url(), quick()};
  a.subscriber(nats::subject{.name = subject, .queue = "workers"})
      .handle([&](const std::string& m) {
        ++by_a;
        seen.add(m);
      });
  b.subscriber(nats::subject{.name = subject, .queue = "workers"})
      .handle([&](const std::string& m) {
        ++by_b;
        seen.add(m);
      });
  brook::app app_a{a}, app_b{b};
  app_a.start({.log_level = "off"});
  app_b.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app_a.ready() && app_b.ready(); }));
  for (int i = 0; i < total; ++i)
    ASSERT_FALSE(a.publish(subject, std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return seen.size() == total; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(seen.calls, static_cast<std::size_t>(total)) << "each once, by one member";
  EXPECT_GT(by_a.load(), 0);
  EXPECT_GT(by_b.load(), 0);
}

// "No responders" to a JetStream publish means no stream took it *now*: a server going
// down answers so for a moment. The publish is sent again (after 250 ms, then 500 ms)
// before it fails; here the stream appears meanwhile, and the message is stored once.
TEST(NatsBroker, AJetStreamPublishThatFindsNoStreamIsSentAgainBeforeItFails) {
  auto subject = unique("latestream"), stream = unique("ls");
  nats::broker publisher{nats_url(), quick()};
  brook::app pub_app{publisher};
  pub_app.start({.log_level = "off"});
  nats::broker consumer_side{nats_url(), quick()};
  seen_set seen;
  consumer_side.subscriber(nats::jetstream{.name = subject, .stream = stream, .queue = "q"})
      .handle([&](const std::string& b) { seen.add(b); });
  brook::app sub_app{consumer_side};
  std::thread later{[&] {
    std::this_thread::sleep_for(100ms);
    sub_app.start({.log_level = "off"});  // declares the stream
  }};
  auto err = publisher.publish(nats::jetstream_out{.name = subject}, std::string{"late"});
  later.join();
  EXPECT_FALSE(err) << err.to_string();
  EXPECT_TRUE(eventually([&] { return seen.size() == 1; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(seen.calls, 1u) << "stored once";
  sub_app.stop();
  pub_app.stop();
}

/// Eight subscribers of one service merge their subjects into one new stream while
/// another client keeps reading the stream's subject list, adding one of its own and
/// writing it back. What the broker shows afterwards: which
/// of the subscribers' subjects the stream has, and how often a message to each was handled.
struct merge_outcome {
  std::set<std::string> subjects, kept;
  std::size_t handled_distinct = 0, handled_calls = 0;
};
merge_outcome merge_into_one_stream() {
  merge_outcome out;
  auto stream = unique("merge");
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  EXPECT_EQ(natsConnection_ConnectTo(&nc, nats_url().c_str()), NATS_OK);
  EXPECT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  std::atomic<bool> writing{true};
  std::thread other{[&] {
    for (int i = 0; writing; ++i) {
      jsStreamInfo* si = nullptr;
      if (js_GetStreamInfo(&si, js, stream.c_str(), nullptr, nullptr) != NATS_OK) {
        std::this_thread::sleep_for(1ms);  // not made yet
        continue;
      }
      auto* theirs = si->Config->Subjects;
      auto len = si->Config->SubjectsLen;
      std::vector<const char*> subjects(theirs, theirs + len);
      auto mine = stream + "-other-" + std::to_string(i);
      subjects.push_back(mine.c_str());
      si->Config->Subjects = subjects.data();
      si->Config->SubjectsLen = static_cast<int>(subjects.size());
      jsStreamInfo* updated = nullptr;
      (void)js_UpdateStream(&updated, js, si->Config, nullptr, nullptr);
      if (updated)
        jsStreamInfo_Destroy(updated);
      si->Config->Subjects = theirs;  // the info frees its own list
      si->Config->SubjectsLen = len;
      jsStreamInfo_Destroy(si);
    }
  }};
  nats::broker broker{nats_url(), quick()};
  seen_set seen;
  for (int i = 0; i < 8; ++i) {
    auto subject = stream + "-" + std::to_string(i);
    out.subjects.insert(subject);
    broker.subscriber(nats::jetstream{.name = subject, .stream = stream, .queue = "q"})
        .handle([&](const std::string& b) { seen.add(b); });
  }
  brook::app app{broker};
  app.start({.log_level = "off"});
  EXPECT_TRUE(eventually([&] { return app.ready(); }));
  std::this_thread::sleep_for(200ms);  // the other client's updates go on meanwhile
  writing = false;
  other.join();
  jsStreamInfo* si = nullptr;
  if (js_GetStreamInfo(&si, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
    for (int i = 0; i < si->Config->SubjectsLen; ++i)
      if (out.subjects.count(si->Config->Subjects[i]))
        out.kept.insert(si->Config->Subjects[i]);
    jsStreamInfo_Destroy(si);
  }
  for (auto& s : out.subjects)
    EXPECT_FALSE(broker.publish(nats::jetstream_out{.name = s}, s)) << s;
  EXPECT_TRUE(eventually([&] { return seen.size() == out.subjects.size(); }));
  std::this_thread::sleep_for(100ms);  // a message stored twice comes twice by now
  out.handled_distinct = seen.size();
  out.handled_calls = seen.calls;
  app.stop();
  (void)js_DeleteStream(js, stream.c_str(), nullptr, nullptr);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return out;
}

// A stream's subject list has no compare-and-set: another client writing the list it read
// drops a subject merged meanwhile. Each subscriber looks again after merging and merges
// again, so none loses its subject, and every publish finds the stream. (nats-server 2.9
// updated by two clients at once may also take a subject twice, storing its messages twice:
// at least once, not exactly once; a message id as Nats-Msg-Id lets the stream drop those.)
TEST(NatsBroker, SubscribersMergingIntoOneStreamKeepTheirSubjectsWhileAnotherUpdatesIt) {
  auto r = merge_into_one_stream();
  EXPECT_EQ(r.kept, r.subjects);
  EXPECT_EQ(r.handled_distinct, r.subjects.size());
  EXPECT_GE(r.handled_calls, r.subjects.size());
}

TEST(NatsBroker, AJetStreamPublishCompletesOnItsPubAckAndFailsWhereNoStreamListens) {
  nats::broker broker{nats_url(), quick()};
  auto subject = unique("nostream");
  brook::app app{broker};
  app.start({.log_level = "off"});
  auto err = broker.publish(nats::jetstream_out{.name = subject}, std::string{"x"});
  ASSERT_TRUE(err);
  EXPECT_EQ(err.code, brook::errc::not_found) << err.to_string();
  EXPECT_NE(err.message.find("no stream takes subject"), std::string::npos) << err.message;
  app.stop();

  nats::broker with_stream{nats_url(), quick()};
  seen_set seen;
  with_stream.subscriber(nats::jetstream{.name = subject, .stream = unique("s"), .queue = "q"})
      .handle([&](const std::string& b) { seen.add(b); });
  brook::app app2{with_stream};
  app2.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app2.ready(); }));
  EXPECT_FALSE(with_stream.publish(nats::jetstream_out{.name = subject}, std::string{"stored"}));
  EXPECT_TRUE(eventually([&] { return seen.size() == 1; }));
}

// Malformed JSON and a wrong field type are terminated (not redelivered), counted, and
// dead-lettered where a dead-letter publisher is set; the next valid message is handled.
TEST(NatsBroker, BadInputOnJetStreamIsDeadLetteredCountedAndTheNextIsHandled) {
  nats::broker broker{nats_url(), quick()};
  auto subject = unique("bad"), stream = unique("bads"), dlq = unique("dlq");
  std::atomic<int> handled{0};
  std::mutex mtx;
  std::vector<std::string> reasons;
  broker.subscriber(dlq).handle([&](const brook::message& m) {
    std::lock_guard lock{mtx};
    if (auto* r = m.header("x-brook-dead-letter-reason"))
      reasons.push_back(*r);
  });
  broker.subscriber(nats::jetstream{.name = subject, .stream = stream, .queue = "q"})
      .dead_letter(broker.publisher(dlq))
      .handle([&](const tt::order&) { ++handled; });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  auto js = nats::jetstream_out{.name = subject};
  ASSERT_FALSE(broker.publish(js, std::string{"{not json"}));
  ASSERT_FALSE(broker.publish(js, std::string{R"({"id": 7, "qty": 1})"}));  // id: wrong type
  ASSERT_FALSE(broker.publish(js, tt::order{"ok", 1}));
  ASSERT_TRUE(eventually([&] { return handled == 1; }));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return reasons.size() == 2;
  }));
  // a dead letter counts once its publish is confirmed, which can trail its arrival
  ASSERT_TRUE(eventually([&] { return stats_of(app, subject).dead_lettered == 2u; }));
  auto s = stats_of(app, subject);
  EXPECT_EQ(s.decode_errors, 2u);
  EXPECT_EQ(s.dead_lettered, 2u);
  {
    std::lock_guard lock{mtx};
    EXPECT_NE(reasons[1].find("id"), std::string::npos) << "names the field: " << reasons[1];
  }
  app.stop();
  EXPECT_TRUE(settled_on_server(nats_url(), stream, "q-" + subject)) << "all three settled";
}

// max_deliver is the server's own attempt limit: the core gives up on the last delivery
// (here to the dead-letter subject) rather than NAK a message the server would then
// never deliver again. Ledger: 3 runs, dead-lettered once, nothing left pending.
TEST(NatsBroker, TheLastOfMaxDeliverIsDeadLetteredNotStranded) {
  nats::broker broker{nats_url(), quick()};
  auto subject = unique("poison"), stream = unique("ps"), dlq = unique("pdlq");
  std::atomic<int> runs{0}, parked{0};
  std::mutex mtx;
  std::string attempts;
  broker.subscriber(dlq).handle([&](const brook::message& m) {
    std::lock_guard lock{mtx};
    if (auto* a = m.header("x-brook-attempts"))
      attempts = *a;
    ++parked;
  });
  broker
      .subscriber(
          nats::jetstream{.name = subject, .stream = stream, .queue = "q", .max_deliver = 3})
      .ack(brook::ack_policy::nack_on_error)
      .dead_letter(broker.publisher(dlq))
      .handle([&](const std::string&) {
        ++runs;
        throw std::runtime_error("always");
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  ASSERT_FALSE(broker.publish(nats::jetstream_out{.name = subject}, std::string{"x"}));
  ASSERT_TRUE(eventually([&] { return parked == 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(runs.load(), 3);
  {
    std::lock_guard lock{mtx};
    EXPECT_EQ(attempts, "3");
  }
  // a dead letter counts once its publish is confirmed, which can trail its arrival
  ASSERT_TRUE(eventually([&] { return stats_of(app, subject).dead_lettered == 1u; }));
  auto s = stats_of(app, subject);
  EXPECT_EQ(s.dead_lettered, 1u);
  EXPECT_EQ(s.nacked, 2u);
  app.stop();
  EXPECT_TRUE(settled_on_server(nats_url(), stream, "q-" + subject));
}

// A core subject cannot pause: beyond the credit, a bounded buffer; what overflows is
// counted, so published = handled + dropped (nothing vanishes silently).
TEST(NatsBroker, ACoreSubjectThatOverflowsCountsEveryDrop) {
  auto s = quick();
  s.subject_buffer = 10;
  nats::broker broker{nats_url(), s};
  auto subject = unique("flood");
  seen_set seen;
  broker.subscriber(subject).max_in_flight(1).handle([&](const std::string& b) {
    std::this_thread::sleep_for(2ms);
    seen.add(b);
  });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  constexpr int total = 300;
  for (int i = 0; i < total; ++i)
    ASSERT_FALSE(broker.publish(subject, std::to_string(i)));
  ASSERT_TRUE(eventually([&] {
    auto st = stats_of(app, subject);
    return seen.size() + st.dropped_total() == total;
  }));
  app.stop();
  auto st = stats_of(app, subject);
  EXPECT_GT(st.dropped_total(), 0u);
  EXPECT_EQ(seen.size() + st.dropped_total(), static_cast<std::size_t>(total));
  EXPECT_EQ(st.dropped.count("driver"), 1u) << "counted as the driver's overflow";
}

// 100,000 messages in the stream and a handler slower than the flood: what the
// service holds stays within its credit (JetStream hands out only what a fetch asks
// for), and every message is handled and acknowledged.
TEST(NatsBroker, AFloodOfAHundredThousandStaysWithinTheCredit) {
  nats::broker broker{nats_url(), quick()};
  auto subject = unique("big"), stream = unique("bigs");
  constexpr int total = 100'000;
  std::atomic<int> handled{0};
  broker.subscriber(nats::jetstream{.name = subject, .stream = stream, .queue = "q"})
      .max_in_flight(32)
      .handle([&](const std::string&) {
        if (handled++ < 200)
          std::this_thread::sleep_for(1ms);  // slow at first, while the flood arrives
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  std::atomic<int> confirmed{0}, failed{0};
  auto out = broker.publisher(nats::jetstream_out{.name = subject});
  for (int i = 0; i < total; ++i)
    out.publish_async(std::to_string(i),
                      [&](const brook::error_info& e) { ++(e ? failed : confirmed); });
  ASSERT_TRUE(eventually([&] { return confirmed + failed == total; }, 60s));
  EXPECT_EQ(failed.load(), 0);
  ASSERT_TRUE(eventually([&] { return handled == total; }, 120s)) << handled.load();
  auto s = stats_of(app, subject);
  EXPECT_LE(s.max_in_flight_seen, 32u);
  app.stop();
  EXPECT_TRUE(settled_on_server(nats_url(), stream, "q-" + subject));
  EXPECT_EQ(stats_of(app, subject).acked, static_cast<std::size_t>(total));
}

// The server stops and comes back (its JetStream store kept): readiness goes false
// and back, the durable consumer resumes, and the ledger holds: every published
// message handled at least once (an ack lost with the old server process brings its
// message back after ack_wait: at least once, not lost), none left on the server,
// nothing dropped.
TEST(NatsBroker, AServerRestartLosesNothingTheStreamKept) {
  constexpr int port = 4250;
  ASSERT_EQ(brook_test::services("start nats", port), 0);
  auto url = "nats://127.0.0.1:" + std::to_string(port);
  nats::broker broker{url, quick()};
  auto subject = unique("restart"), stream = unique("rs");
  seen_set seen;
  broker
      .subscriber(nats::jetstream{.name = subject, .stream = stream, .queue = "q", .ack_wait = 1s})
      .max_in_flight(4)
      .handle([&](const std::string& b) {
        std::this_thread::sleep_for(1ms);
        seen.add(b);
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  auto out = broker.publisher(nats::jetstream_out{.name = subject});
  for (int i = 0; i < 50; ++i)
    ASSERT_FALSE(out.publish(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return seen.size() >= 10; }));
  ASSERT_EQ(brook_test::services("restart nats", port), 0);
  EXPECT_TRUE(eventually([&] { return app.ready(); }, 15s)) << "back by itself";
  for (int i = 50; i < 100; ++i)
    ASSERT_FALSE(out.publish(std::to_string(i)));
  EXPECT_TRUE(eventually([&] { return seen.size() == 100; }, 20s)) << seen.size();
  EXPECT_TRUE(eventually(
      [&] {
        auto c = consumer(url, stream, "q-" + subject);
        return c.pending == 0 && c.ack_pending == 0;
      },
      15s))
      << "every message settled on the server";
  EXPECT_GE(seen.calls, 100u);
  app.stop();
  auto conns = app.connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_GE(conns[0].losses + conns[0].stalls, 1u) << "the outage was seen";
  EXPECT_GE(conns[0].connects, 2u) << "connected, then restored";
  EXPECT_TRUE(settled_on_server(url, stream, "q-" + subject));
  EXPECT_EQ(stats_of(app, subject).dropped_total(), 0u);
  brook_test::services("stop nats", port);
}

// A handler's results go on to another stream while the server restarts under it. A result
// published while the connection is down waits in nats.c's reconnect buffer and goes out on
// reconnect (its PubAck completes it); one that fails leaves its input unsettled, and an
// ack lost with the connection brings its input again. Either way every input's result
// arrives, nothing stays on the server, nothing is dropped (at least once: a result may
// arrive twice; the line printed says how often).
TEST(NatsBroker, AServerRestartUnderAResultPublishingHandlerLosesNoResult) {
  constexpr int port = 4251;
  constexpr int total = 100;
  ASSERT_EQ(brook_test::services("start nats", port), 0);
  auto url = "nats://127.0.0.1:" + std::to_string(port);
  nats::broker broker{url, quick()};
  auto in = unique("rin"), out = unique("rout");
  auto in_stream = unique("ri"), out_stream = unique("ro");
  seen_set results;
  broker.subscriber(nats::jetstream{.name = in, .stream = in_stream, .queue = "q", .ack_wait = 1s})
      .publisher(broker.publisher(nats::jetstream_out{.name = out}))
      .max_in_flight(2)
      .handle([](const std::string& b) {
        std::this_thread::sleep_for(5ms);  // results are being published as the server goes
        return "result " + b;
      });
  broker
      .subscriber(nats::jetstream{.name = out, .stream = out_stream, .queue = "q", .ack_wait = 1s})
      .handle([&](const std::string& b) { results.add(b); });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  auto inputs = broker.publisher(nats::jetstream_out{.name = in});
  for (int i = 0; i < total; ++i)
    ASSERT_FALSE(inputs.publish(std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return results.size() >= 10; }));
  ASSERT_LT(results.size(), static_cast<std::size_t>(total)) << "the restart comes mid-stream";
  ASSERT_EQ(brook_test::services("restart nats", port), 0);
  EXPECT_TRUE(eventually([&] { return app.ready(); }, 15s)) << "back by itself";
  EXPECT_TRUE(eventually([&] { return results.size() == total; }, 30s))
      << results.size() << " of " << total << " results";
  app.stop();
  EXPECT_TRUE(settled_on_server(url, in_stream, "q-" + in));
  EXPECT_TRUE(settled_on_server(url, out_stream, "q-" + out));
  EXPECT_EQ(stats_of(app, in).dropped_total(), 0u);
  EXPECT_EQ(stats_of(app, out).dropped_total(), 0u);
  EXPECT_GE(results.calls, static_cast<std::size_t>(total));
  auto s = stats_of(app, in);
  std::cout << "inputs received " << s.received << ", nacked " << s.nacked << "; results "
            << results.calls << " for " << total << "\n";
  brook_test::services("stop nats", port);
}

// The test broker takes a NATS broker unchanged: declarations are checked with the
// driver's rules, and a JetStream subscription's acks drive the in-memory emulation
// (a nack_on_error failure comes back; a core subject's nack is a counted drop).
TEST(NatsTestBroker, ChecksDeclarationsWithTheDriversRulesAndEmulatesTheirAcks) {
  {
    nats::broker broker{nats_url()};
    broker.subscriber(nats::jetstream{.name = "orders"}).handle([](const std::string&) {});
    EXPECT_THROW(brook::testing::test_broker{broker}, std::exception) << "no stream: refused";
  }
  nats::broker broker{nats_url()};
  std::atomic<int> js_runs{0}, core_runs{0};
  broker.subscriber(nats::jetstream{.name = "orders", .stream = "orders", .queue = "q"})
      .ack(brook::ack_policy::nack_on_error)
      .handle([&](const std::string&) {
        if (js_runs++ == 0)
          throw std::runtime_error("first time");
      });
  broker.subscriber("events").ack(brook::ack_policy::nack_on_error).handle([&](const std::string&) {
    ++core_runs;
    throw std::runtime_error("always");
  });
  std::atomic<int> wild{0};
  broker.subscriber("events.*.created").handle([&](const std::string&) { ++wild; });
  brook::testing::test_broker tb{broker};
  ASSERT_FALSE(tb.publish("events.eu.created", std::string{"w"}));
  ASSERT_FALSE(tb.publish("orders", std::string{"o"}, {.driver = nats::jetstream_out{}}));
  ASSERT_FALSE(tb.publish("events", std::string{"e"}));
  ASSERT_TRUE(tb.wait_idle());
  EXPECT_EQ(js_runs.load(), 2) << "NAKed, redelivered, then acked";
  EXPECT_EQ(tb.stats("orders").acked, 1u);
  EXPECT_EQ(core_runs.load(), 1);
  EXPECT_EQ(wild.load(), 1) << "a wildcard subject matches as on the server";
  EXPECT_EQ(tb.stats("events").dropped_total(), 1u) << "core NATS cannot take a nack back";
}

// A key-value bucket: put, get and erase through the handle, which a handler gets injected.
TEST(NatsKeyValue, PutGetEraseAndInjectedIntoAHandler) {
  nats::broker broker{nats_url(), quick()};
  auto bucket = unique("cfg");
  auto kv = broker.key_value(bucket);
  broker.provide(kv);
  auto subject = unique("kvq");
  broker.subscriber(subject).handle(
      [](const std::string& key, brook::dep<nats::key_value> cfg) -> std::string {
        return cfg->get(key).value_or("(none)");
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  std::uint64_t rev = 0;
  ASSERT_FALSE(kv->put("limit", "42", &rev));
  EXPECT_GT(rev, 0u);
  EXPECT_EQ(kv->get("limit"), std::optional<std::string>{"42"});
  EXPECT_EQ(broker.request<std::string>(subject, std::string{"limit"}), "42");
  ASSERT_FALSE(kv->erase("limit"));
  brook::error_info err;
  EXPECT_EQ(kv->get("limit", &err), std::nullopt);
  EXPECT_FALSE(err) << "a deleted key is absent, not an error: " << err.to_string();
  EXPECT_EQ(broker.request<std::string>(subject, std::string{"limit"}), "(none)");
}

// A watch starts with the current values, then follows puts and deletes of matching keys
// (with the operation and revision as metadata); ignore_deletes leaves the deletes out.
TEST(NatsKeyValue, AWatchSeesCurrentValuesThenChanges) {
  auto bucket = unique("watch");
  {
    nats::broker seeder{nats_url(), quick()};
    brook::app app{seeder};  // a key_value works once its broker's app started
    app.start({.log_level = "off"});
    auto kv = seeder.key_value(bucket);
    ASSERT_FALSE(kv->put("feature.a", "on"));
    ASSERT_FALSE(kv->put("other", "x"));
  }
  nats::broker broker{nats_url(), quick()};
  auto kv = broker.key_value(bucket);
  std::mutex mtx;
  std::vector<std::string> seen, quiet;
  broker.subscriber(nats::kv_watch{.name = "feature.>", .bucket = bucket})
      .handle([&](const brook::message& m) {
        std::lock_guard lock{mtx};
        seen.push_back(std::string{m.channel()} + "=" + std::string{m.body()} + " " +
                       std::string{m.metadata("operation")});
      });
  broker.subscriber(nats::kv_watch{.name = "feature.>", .bucket = bucket, .ignore_deletes = true})
      .handle([&](const brook::message& m) {
        std::lock_guard lock{mtx};
        quiet.push_back(std::string{m.channel()} + "=" + std::string{m.body()});
      });
  brook::app app{broker};
  app.start({.log_level = "off"});
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return seen.size() == 1 && quiet.size() == 1;
  })) << "the current value first";
  ASSERT_FALSE(kv->put("feature.b", "off"));
  ASSERT_FALSE(kv->erase("feature.a"));
  ASSERT_FALSE(kv->put("other", "y"));  // not watched
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock{mtx};
    return seen.size() == 3 && quiet.size() == 2;
  }));
  std::this_thread::sleep_for(100ms);
  std::lock_guard lock{mtx};
  EXPECT_EQ(seen, (std::vector<std::string>{"feature.a=on put", "feature.b=off put",
                                            "feature.a= delete"}));
  EXPECT_EQ(quiet, (std::vector<std::string>{"feature.a=on", "feature.b=off"}));
}

// Key-value buckets and watches on the test broker's emulation and, with_real, on the
// server: the same puts, deletes, lookups from a handler and watches, the same outcome.
class NatsKeyValueEverywhere : public ::testing::TestWithParam<bool> {};

TEST_P(NatsKeyValueEverywhere, BucketsAndWatchesBehaveAsOnTheServer) {
  const bool real = GetParam();
  auto bucket = unique("emu");
  auto seed = [&](nats::key_value& kv) {
    EXPECT_FALSE(kv.put("feature.a", "on"));
    EXPECT_FALSE(kv.put("other", "x"));
    EXPECT_FALSE(kv.put("feature.a", "on2"));
  };
  if (real) {
    nats::broker seeder{nats_url(), quick()};
    brook::app app{seeder};
    app.start({.log_level = "off"});
    seed(*seeder.key_value(bucket));
  }
  nats::broker broker{nats_url(), quick()};
  auto kv = broker.key_value(bucket);
  broker.provide(kv);
  std::mutex mtx;
  std::vector<std::string> seen, quiet, history;
  std::vector<std::uint64_t> revisions;
  auto line = [](const brook::message& m) {
    return std::string{m.channel()} + "=" + std::string{m.body()} + " " +
           std::string{m.metadata("operation")};
  };
  broker.subscriber(nats::kv_watch{.name = "feature.>", .bucket = bucket})
      .handle([&](const brook::message& m) {
        std::lock_guard lock{mtx};
        seen.push_back(line(m));
        revisions.push_back(std::stoull(std::string{m.metadata("revision")}));
        EXPECT_EQ(m.metadata("bucket"), bucket);
      });
  broker.subscriber(nats::kv_watch{.name = "feature.>", .bucket = bucket, .ignore_deletes = true})
      .handle([&](const brook::message& m) {
        std::lock_guard lock{mtx};
        quiet.push_back(line(m));
      });
  broker.subscriber(nats::kv_watch{.name = "feature.a", .bucket = bucket, .history = true})
      .handle([&](const brook::message& m) {
        std::lock_guard lock{mtx};
        history.push_back(line(m));
      });
  auto lookup = unique("lookup");
  broker.subscriber(lookup).handle(
      [](const std::string& key, brook::dep<nats::key_value> cfg) -> std::string {
        return cfg->get(key).value_or("(none)");
      });
  brook::app app{broker};
  if (!real)
    app.on_startup([&] { seed(*kv); });  // before the watches start, as the seeder above
  brook::testing::test_broker tb{app, {.with_real = real}};
  ASSERT_TRUE(eventually([&] { return app.ready(); }));
  auto counts_are = [&](std::size_t a, std::size_t q, std::size_t h) {
    return eventually([&] {
      std::lock_guard lock{mtx};
      return seen.size() == a && quiet.size() == q && history.size() == h;
    });
  };
  ASSERT_TRUE(counts_are(1, 1, 2)) << "the current values first";
  std::uint64_t rev_b = 0;
  ASSERT_FALSE(kv->put("feature.b", "off", &rev_b));
  EXPECT_EQ(tb.request<std::string>(lookup, std::string{"feature.b"}), "off");
  ASSERT_FALSE(kv->erase("feature.a"));
  ASSERT_FALSE(kv->put("other", "y"));  // not watched
  ASSERT_TRUE(counts_are(3, 2, 3));
  EXPECT_EQ(tb.request<std::string>(lookup, std::string{"feature.a"}), "(none)");
  EXPECT_EQ(kv->get("other"), std::optional<std::string>{"y"});
  EXPECT_TRUE(kv->put("not a key", "x")) << "the server's key rules hold";
  std::this_thread::sleep_for(100ms);  // nothing else comes
  std::lock_guard lock{mtx};
  EXPECT_EQ(seen, (std::vector<std::string>{"feature.a=on2 put", "feature.b=off put",
                                            "feature.a= delete"}));
  EXPECT_EQ(quiet, (std::vector<std::string>{"feature.a=on2 put", "feature.b=off put"}));
  EXPECT_EQ(history, (std::vector<std::string>{"feature.a=on put", "feature.a=on2 put",
                                               "feature.a= delete"}));
  ASSERT_EQ(revisions.size(), 3u);
  EXPECT_EQ(revisions[0], 3u) << "the bucket's third write";
  EXPECT_EQ(revisions[1], rev_b);
  EXPECT_LT(revisions[1], revisions[2]);
}

INSTANTIATE_TEST_SUITE_P(Nats, NatsKeyValueEverywhere, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "real" : "test_broker"; });

}  // namespace
